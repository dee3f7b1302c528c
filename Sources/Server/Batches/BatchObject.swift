import Foundation
import Hummingbird

/// A batch job as the API shows it (`"object": "batch"`); absent values are explicit nulls.
struct BatchObject: ResponseEncodable, Sendable {
    let job: JobRecord
    let options: BatchOptions
    let summary: BatchSummary?

    init(_ job: JobRecord) throws {
        self.job = job
        options = try JSONDecoder().decode(BatchOptions.self, from: Data((job.options ?? "{}").utf8))
        summary = try job.metrics.map { try JSONDecoder().decode(BatchSummary.self, from: Data($0.utf8)) }
    }

    /// Results are downloadable once the batch succeeded, or was cancelled (the rows written before).
    var hasResults: Bool { job.status == .succeeded || (job.status == .cancelled && summary != nil) }

    private struct Input: Encodable {
        let dataset: String?
        let file: String?
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(dataset, forKey: .dataset)
            try container.encode(file, forKey: .file)
        }
        enum CodingKeys: String, CodingKey { case dataset, file }
    }

    private struct Progress: Encodable {
        let images: Int
        let done: Int
        let eta_seconds: Double?
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(images, forKey: .images)
            try container.encode(done, forKey: .done)
            try container.encode(eta_seconds, forKey: .eta_seconds)
        }
        enum CodingKeys: String, CodingKey { case images, done, eta_seconds }
    }

    private struct Counts: Encodable {
        let total: Int
        let completed: Int
        let failed: Int
    }

    private struct Results: Encodable {
        let jsonl: String
        let csv: String
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(job.id, forKey: .id)
        try container.encode("batch", forKey: .object)
        try container.encode(job.status, forKey: .status)
        try container.encode(job.createdAt, forKey: .created_at)
        try container.encode(job.startedAt, forKey: .started_at)
        try container.encode(job.finishedAt, forKey: .finished_at)
        try container.encode(job.model, forKey: .model)
        try container.encode(job.method, forKey: .mode)
        try container.encode(job.promptSetID, forKey: .prompt_set)
        try container.encode(options.classes, forKey: .classes)
        try container.encode(options.threshold, forKey: .threshold)
        try container.encode(options.topK, forKey: .top_k)
        try container.encode(Input(dataset: options.dataset, file: options.archiveName), forKey: .input)
        try container.encode(Progress(images: job.steps, done: job.step, eta_seconds: job.etaSeconds), forKey: .progress)
        try container.encode(summary.map { Counts(total: $0.images, completed: $0.images - $0.failed, failed: $0.failed) }, forKey: .image_counts)
        try container.encode(summary?.imagesPerSecond, forKey: .images_per_second)
        let base = "/v1/batches/\(job.id)/results"
        try container.encode(hasResults ? Results(jsonl: base + "?format=jsonl", csv: base + "?format=csv") : nil, forKey: .results)
        try container.encode(job.errorCode.map {
            JobObject.ErrorObject(code: $0, message: ServerPathRedaction.clean(job.errorMessage ?? ""), param: job.errorParam)
        }, forKey: .error)
        try container.encode(job.cancelRequested, forKey: .cancel_requested)
    }

    enum CodingKeys: String, CodingKey {
        case id, object, status, created_at, started_at, finished_at, model, mode, prompt_set, classes, threshold, top_k, input
        case progress, image_counts, images_per_second, results, error, cancel_requested
    }
}
