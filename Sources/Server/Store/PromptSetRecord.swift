import GRDB

/// A row of `prompt_set`: a finished job's artifact, whose folder (`path`) holds
/// `prompts.safetensors` and `prompt_set.json`.
struct PromptSetRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "prompt_set"

    var id: String
    var jobID: String
    var model: String
    var path: String
    var createdAt: Int64
    var classCount: Int
    /// `JobMetricsSummary` as JSON, when the job had validation data.
    var metrics: String?

    enum CodingKeys: String, CodingKey {
        case id, model, path, metrics
        case jobID = "job_id"
        case createdAt = "created_at"
        case classCount = "class_count"
    }
}
