import CLIP
import Hummingbird

/// The answer of `POST /v1/tag`: per image, its labels and what it cost, plus the model and
/// prompt set that made them.
struct TagResponse: ResponseEncodable {
    struct ImageTimings: Encodable, Sendable {
        let decodeMs: Double
        let queueMs: Double
        let inferenceMs: Double
        let batchSize: Int
        enum CodingKeys: String, CodingKey {
            case decodeMs = "decode_ms"
            case queueMs = "queue_ms"
            case inferenceMs = "inference_ms"
            case batchSize = "batch_size"
        }
    }

    struct ImageResult: Encodable, Sendable {
        let index: Int
        let filename: String?
        let width: Int
        let height: Int
        let labels: [ImageLabel]
        let timings: ImageTimings
    }

    struct Timings: Encodable, Sendable {
        let decodeMs: Double
        let queueMs: Double
        let inferenceMs: Double
        let totalMs: Double
        enum CodingKeys: String, CodingKey {
            case decodeMs = "decode_ms"
            case queueMs = "queue_ms"
            case inferenceMs = "inference_ms"
            case totalMs = "total_ms"
        }
    }

    var object = "tag_result"
    let model: String
    let weightsSHA256: String
    /// The prompt set used; nil for zero-shot classes.
    let promptSet: String?
    /// `prompt_set` or `zero_shot`.
    let mode: String
    let results: [ImageResult]
    /// For the whole request: decoding summed, queue and inference the longest of its images.
    let timings: Timings

    enum CodingKeys: String, CodingKey {
        case object, model, mode, results, timings
        case weightsSHA256 = "weights_sha256"
        case promptSet = "prompt_set"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(object, forKey: .object)
        try c.encode(model, forKey: .model)
        try c.encode(weightsSHA256, forKey: .weightsSHA256)
        try c.encode(promptSet, forKey: .promptSet)
        try c.encode(mode, forKey: .mode)
        try c.encode(results, forKey: .results)
        try c.encode(timings, forKey: .timings)
    }
}
