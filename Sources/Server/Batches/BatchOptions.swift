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

    enum CodingKeys: String, CodingKey { case dataset }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownFields(allowed: Set(TagOptions.names).union(["dataset"]))
        dataset = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .dataset)
        options = try TagOptions(json: decoder)
    }
}
