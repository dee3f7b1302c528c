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

    enum CodingKeys: String, CodingKey {
        case images, classes, model, threshold
        case promptSet = "prompt_set"
        case topK = "top_k"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownFields(allowed: Set(TagOptions.names).union(["images"]))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        images = try container.decode([Image].self, forKey: .images)
        options = TagOptions(
            promptSet: try container.decodeIfPresent(String.self, forKey: .promptSet),
            model: try container.decodeIfPresent(String.self, forKey: .model),
            classes: try container.decodeIfPresent([String].self, forKey: .classes),
            topK: try container.decodeIfPresent(Int.self, forKey: .topK),
            threshold: try container.decodeIfPresent(Double.self, forKey: .threshold).map { Float($0) })
    }
}
