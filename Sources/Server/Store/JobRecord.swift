import GRDB

/// A tuning job's status, OpenAI's vocabulary: `validating_files` while the worker checks the
/// dataset and loads the encoder, then `running`, ending in one of the three finished states.
public enum JobStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case validatingFiles = "validating_files"
    case queued
    case running
    case succeeded
    case failed
    case cancelled

    /// No further change will happen.
    public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }

    /// Statuses of jobs that still need their datasets.
    static let unfinished: [JobStatus] = [.validatingFiles, .queued, .running]
}

/// What a job does: tune a prompt set, or tag every image of a dataset or an uploaded zip.
enum JobKind: String, Codable, Sendable, DatabaseValueConvertible {
    case tuning
    case batch
}

/// A row of `job`: one tuning or batch job, its state, progress and outcome. A batch's progress
/// is in `step`/`steps` (images written / in all) and its settings in `options`.
struct JobRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "job"

    /// Insertion order: the queue runs jobs by it, listings page by it.
    var seq: Int64?
    var id: String
    var createdAt: Int64
    var startedAt: Int64?
    var finishedAt: Int64?
    var status: JobStatus
    var model: String
    var method: String
    var datasetID: String
    var validationDatasetID: String?
    /// The resolved `TuningHyperparameters` as JSON.
    var hyperparameters: String
    var seed: Int64
    var suffix: String?
    var epoch: Int = 0
    var epochs: Int
    var step: Int = 0
    var steps: Int = 0
    var etaSeconds: Double?
    /// `JobMetricsSummary` as JSON, once the job has validated.
    var metrics: String?
    var promptSetID: String?
    var errorCode: String?
    var errorMessage: String?
    var errorParam: String?
    var cancelRequested: Bool = false
    var kind: JobKind = .tuning
    /// A batch job's images and tagging options as JSON (see Batches/).
    var options: String?
    /// Raised by every claim: the fencing token of the owner's writes (see TuningStore).
    var attempt: Int = 0
    /// Attempts that ended with their owner gone (killed, cut off) rather than handing the job back.
    var lostAttempts: Int = 0
    /// The replica that holds the job's lease while it runs.
    var claimedBy: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case seq, id, status, model, method, hyperparameters, seed, suffix, epoch, epochs, step, steps, metrics, kind, options
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case datasetID = "dataset_id"
        case validationDatasetID = "validation_dataset_id"
        case etaSeconds = "eta_seconds"
        case promptSetID = "prompt_set_id"
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case errorParam = "error_param"
        case cancelRequested = "cancel_requested"
        case attempt
        case lostAttempts = "lost_attempts"
        case claimedBy = "claimed_by"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }
}
