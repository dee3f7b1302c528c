import Foundation
import Hummingbird

/// What a batch job tags and how: the images (a dataset's, or an uploaded zip kept in the batch's
/// folder) and the tagging options of `/v1/tag` (prompt set or zero-shot classes, model, threshold,
/// top_k). Stored as JSON in the job's `options`.
struct BatchOptions: Codable, Sendable, Equatable {
    /// The dataset whose images are tagged; nil for an uploaded zip.
    var dataset: String?
    /// The uploaded zip's file name as the client sent it (for the batch object), nil for a dataset.
    var archiveName: String?
    var promptSet: String?
    var model: String?
    var classes: [String]?
    var threshold: Float?
    var topK: Int?

    enum CodingKeys: String, CodingKey {
        case dataset, model, classes, threshold
        case archiveName = "archive_name"
        case promptSet = "prompt_set"
        case topK = "top_k"
    }

    var tagOptions: TagOptions {
        TagOptions(promptSet: promptSet, model: model, classes: classes, topK: topK, threshold: threshold)
    }

    init(dataset: String?, archiveName: String?, options: TagOptions) {
        self.dataset = dataset
        self.archiveName = archiveName
        promptSet = options.promptSet
        model = options.model
        classes = options.classes
        threshold = options.threshold
        topK = options.topK
    }
}

/// `POST /v1/batches` with a JSON body: `{"dataset": "ds-…", "prompt_set" | "classes", "model",
/// "threshold", "top_k"}`. Unknown fields are refused.
struct BatchJSONBody: Decodable {
    let dataset: String
    let options: TagOptions

    enum CodingKeys: String, CodingKey {
        case dataset, model, classes, threshold
        case promptSet = "prompt_set"
        case topK = "top_k"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownFields(allowed: Set(TagOptions.names).union(["dataset"]))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        dataset = try container.decode(String.self, forKey: .dataset)
        let topK: Int?
        if container.contains(.topK), try !container.decodeNil(forKey: .topK) {
            guard let value = try? container.decode(Int.self, forKey: .topK) else {
                throw APIError(.unprocessableContent, code: "invalid_value", message: "top_k must be a whole number", param: "top_k")
            }
            topK = value
        } else {
            topK = nil
        }
        options = TagOptions(
            promptSet: try container.decodeIfPresent(String.self, forKey: .promptSet),
            model: try container.decodeIfPresent(String.self, forKey: .model),
            classes: try container.decodeIfPresent([String].self, forKey: .classes),
            topK: topK,
            threshold: try container.decodeIfPresent(Double.self, forKey: .threshold).map { Float($0) })
    }
}
