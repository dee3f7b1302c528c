import Foundation
import Hummingbird

/// One input of `POST /v1/embeddings`: a text for the text tower or an image for the vision tower.
/// Both towers project into the same space, so a text query finds images and the reverse.
enum EmbeddingInput: Sendable {
    case text(String)
    case image(UploadedImage)
}

/// How embeddings are written in the answer: JSON numbers, or OpenAI's base64 of the float32
/// values in little-endian order (a quarter of the size, exact).
enum EmbeddingEncoding: String, Sendable, CaseIterable {
    case float
    case base64
}

/// A read embeddings request.
struct EmbeddingsRequest: Sendable {
    /// Texts in one request: each is a text-tower pass, bounded like zero-shot classes so one
    /// request cannot hold the encoder for seconds.
    static let maxTexts = TagOptions.maxClasses
    /// Characters in one text: CLIP reads 77 tokens (longer texts are cut, as open_clip does), so a
    /// bound far above that only keeps tokenizing cheap.
    static let maxTextLength = 10_000
    static let fields: Set<String> = ["input", "model", "encoding_format", "normalize", "user"]

    var inputs: [EmbeddingInput]
    var model: String?
    var encoding: EmbeddingEncoding = .float
    /// Unit length (the default, what cosine search wants) or the raw projections.
    var normalize = true

    var imageCount: Int { inputs.reduce(0) { if case .image = $1 { $0 + 1 } else { $0 } } }
    var textCount: Int { inputs.count - imageCount }

    /// Sets an option given as text (a multipart form field).
    mutating func set(_ name: String, text: String) throws {
        switch name {
        case "model":
            model = text
        case "encoding_format":
            guard let value = EmbeddingEncoding(rawValue: text) else { throw Self.badEncoding(text) }
            encoding = value
        case "normalize":
            guard let value = Bool(text.lowercased()) else {
                throw APIError(.unprocessableContent, code: "invalid_type", message: "normalize must be true or false, got '\(text)'",
                               param: "normalize")
            }
            normalize = value
        case "user":
            break   // OpenAI's end-user id: accepted for compatibility, not used
        default:
            throw APIError.unknownParameter(name, "unknown form field '\(name)'; expected input (text), image parts, or one of "
                                            + Self.fields.subtracting(["input"]).sorted().joined(separator: ", "))
        }
    }

    static func badEncoding(_ text: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_value",
                 message: "encoding_format must be one of \(EmbeddingEncoding.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'",
                 param: "encoding_format")
    }

    /// The checks shared by both request shapes, after reading.
    func validate(maxImages: Int) throws {
        guard !inputs.isEmpty else {
            throw APIError(.unprocessableContent, code: "missing_input", message: "input is empty; send at least one text or image",
                           param: "input")
        }
        if let model, model.trimmingCharacters(in: .whitespaces).isEmpty {
            throw APIError(.unprocessableContent, code: "invalid_value", message: "model must not be empty", param: "model")
        }
        guard imageCount <= maxImages else {
            throw APIError(.contentTooLarge, code: "too_many_images",
                           message: "\(imageCount) images in one request; at most \(maxImages) (limits.max_images_per_request)", param: "input")
        }
        guard textCount <= Self.maxTexts else {
            throw APIError(.contentTooLarge, code: "too_many_texts",
                           message: "\(textCount) texts in one request; at most \(Self.maxTexts): send them in several requests", param: "input")
        }
        for (index, input) in inputs.enumerated() {
            guard case .text(let text) = input else { continue }
            if text.count > Self.maxTextLength {
                throw APIError(.unprocessableContent, code: "invalid_value",
                               message: "input[\(index)] is longer than \(Self.maxTextLength) characters (CLIP reads the first 77 tokens)",
                               param: "input[\(index)]")
            }
            if text.unicodeScalars.contains(where: { $0 == "\0" }) {
                throw APIError(.unprocessableContent, code: "invalid_value", message: "input[\(index)] contains a NUL character",
                               param: "input[\(index)]")
            }
        }
    }
}
