import Foundation
import Hummingbird

/// The answer of `POST /v1/embeddings`, in OpenAI's shape: `{"object": "list", "data": [{"object":
/// "embedding", "index", "embedding"}], "model", "usage"}`, plus the weights' digest so an index
/// can tell which model its vectors came from.
struct EmbeddingsResponse: ResponseEncodable, Sendable {
    struct Usage: Encodable, Sendable {
        let promptTokens: Int
        let totalTokens: Int
        /// Images embedded (OpenAI's usage has only tokens).
        let images: Int
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case totalTokens = "total_tokens"
            case images
        }
    }

    let model: String
    let weightsSHA256: String
    let vectors: [[Float]]
    let encoding: EmbeddingEncoding
    let usage: Usage

    enum CodingKeys: String, CodingKey {
        case object, data, model, usage
        case weightsSHA256 = "weights_sha256"
    }

    private enum ItemKeys: String, CodingKey { case object, index, embedding }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("list", forKey: .object)
        var data = container.nestedUnkeyedContainer(forKey: .data)
        for (index, vector) in vectors.enumerated() {
            var item = data.nestedContainer(keyedBy: ItemKeys.self)
            try item.encode("embedding", forKey: .object)
            try item.encode(index, forKey: .index)
            switch encoding {
            case .float: try item.encode(vector, forKey: .embedding)
            case .base64: try item.encode(Self.base64(vector), forKey: .embedding)
            }
        }
        try container.encode(model, forKey: .model)
        try container.encode(weightsSHA256, forKey: .weightsSHA256)
        try container.encode(usage, forKey: .usage)
    }

    /// The float32 values' bytes, little-endian, in base64 (what OpenAI's clients decode with
    /// `numpy.frombuffer(base64.b64decode(s), dtype="<f4")`).
    static func base64(_ vector: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        return Data(bytes).base64EncodedString()
    }
}
