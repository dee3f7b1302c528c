import Foundation
import Hummingbird

/// Decodes JSON request bodies into small `Decodable` types with the API's statuses:
/// malformed JSON → 400 `invalid_json`; a wrong type, a missing or an unknown field → 422
/// `invalid_value` with the field's path (`images[0].base64`) as `param`.
enum JSONRequestBody {
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        let data = Data(buffer: buffer)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            // Foundation refuses the whole document for one number beyond a Double (`1e400`),
            // which is valid JSON: that is a bad value of its field.
            if let field = fieldWithUnrepresentableNumber(data) {
                throw APIError(.unprocessableContent, code: "invalid_value", message: "\(field) is not a representable number",
                               param: field)
            }
            throw apiError(.dataCorrupted(context))
        } catch let error as DecodingError {
            throw apiError(error)
        }
    }

    private static let numberField = try! NSRegularExpression(pattern: #""([A-Za-z_][A-Za-z0-9_]*)"\s*:\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"#)

    /// The first `"field": number` whose number is beyond Double's range.
    static func fieldWithUnrepresentableNumber(_ data: Data) -> String? {
        guard data.count <= 1 << 20, let text = String(data: data, encoding: .utf8) else { return nil }
        for match in numberField.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let name = Range(match.range(at: 1), in: text), let number = Range(match.range(at: 2), in: text) else { continue }
            if let value = Double(text[number]), !value.isFinite { return String(text[name]) }
        }
        return nil
    }

    static func apiError(_ error: DecodingError) -> APIError {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return APIError(.badRequest, code: "invalid_json", message: "the body is not valid JSON: \(context.debugDescription)")
        case .dataCorrupted(let context):
            return APIError(.unprocessableContent, code: "invalid_value", message: "\(path(context.codingPath)): \(context.debugDescription)",
                            param: path(context.codingPath))
        case .typeMismatch(let expected, let context):
            return APIError(.unprocessableContent, code: "invalid_type",
                            message: "\(path(context.codingPath)) must be \(describe(expected))", param: path(context.codingPath))
        case .valueNotFound(let expected, let context):
            return APIError(.unprocessableContent, code: "invalid_type",
                            message: "\(path(context.codingPath)) must be \(describe(expected)), not null", param: path(context.codingPath))
        case .keyNotFound(let key, let context):
            return .missingParameter(path(context.codingPath + [key]))
        @unknown default:
            return APIError(.unprocessableContent, code: "invalid_value", message: "\(error)")
        }
    }

    /// `images[0].base64` from a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return text.isEmpty ? "body" : text
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is [Any].Type: return "an array"
        case is [String: Any].Type: return "an object"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}

/// Any field name, to list the fields a body actually has.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; intValue = nil }
    init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// Throws for a field not in `allowed`: a misspelt option must not be silently ignored.
    func rejectUnknownFields(allowed: Set<String>) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            let param = JSONRequestBody.path(codingPath + [key])
            throw APIError.unknownParameter(param, "\(param): unknown field; expected one of \(allowed.sorted().joined(separator: ", "))")
        }
    }
}
