/// `POST /v1/tag` with `Content-Type: application/json`:
/// `{"images": [{"base64": "…"}], "prompt_set": "…", "model": "…", "classes": […], "top_k": 5, "threshold": 0.5}`.
/// Unknown fields are refused, so a misspelt option never goes unnoticed.
struct TagJSONBody: Decodable {
    struct Image: Decodable {
        let base64: String

        enum CodingKeys: String, CodingKey { case base64 }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownFields(allowed: ["base64"])
            base64 = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .base64)
        }
    }

    let images: [Image]
    let options: TagOptions

    enum CodingKeys: String, CodingKey { case images }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownFields(allowed: Set(TagOptions.names).union(["images"]))
        images = try decoder.container(keyedBy: CodingKeys.self).decode([Image].self, forKey: .images)
        options = try TagOptions(json: decoder)
    }
}

extension TagOptions {
    private enum JSONKeys: String, CodingKey {
        case model, classes, threshold
        case promptSet = "prompt_set"
        case topK = "top_k"
    }

    /// The option fields of a JSON body (a tag request's, a batch's); the body's own decoder refuses unknown fields.
    init(json decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKeys.self)
        self.init(
            promptSet: try container.decodeIfPresent(String.self, forKey: .promptSet),
            model: try container.decodeIfPresent(String.self, forKey: .model),
            classes: try container.decodeIfPresent([String].self, forKey: .classes),
            topK: try Self.wholeNumber(container, .topK, "top_k"),
            threshold: try Self.number(container, .threshold, "threshold").map { Float($0) })
    }

    /// A number that is valid JSON but no `Int` (`1.5`, `2^70`) is a bad value of the field: 422
    /// naming it, not 400 "not valid JSON".
    private static func wholeNumber(_ container: KeyedDecodingContainer<JSONKeys>, _ key: JSONKeys, _ param: String) throws -> Int? {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
        if let value = try? container.decode(Int.self, forKey: key) { return value }
        let number = try number(container, key, param)
        throw APIError(.unprocessableContent, code: "invalid_value",
                       message: "\(param) must be a whole number, got \(number.map { "\($0)" } ?? "null")", param: param)
    }

    /// A number too large for a Double (`1e400`) is a bad value of the field too.
    private static func number(_ container: KeyedDecodingContainer<JSONKeys>, _ key: JSONKeys, _ param: String) throws -> Double? {
        do {
            return try container.decodeIfPresent(Double.self, forKey: key)
        } catch DecodingError.dataCorrupted {
            throw APIError(.unprocessableContent, code: "invalid_value", message: "\(param) is not a representable number", param: param)
        }
    }
}
