import Foundation
import Hummingbird
import Tuning

/// A tuning job as the API shows it, shaped like OpenAI's fine-tuning job object; absent values are
/// explicit nulls.
struct JobObject: ResponseEncodable, Sendable {
    struct Progress: Encodable, Sendable {
        let epoch: Int
        let epochs: Int
        /// Optimisation steps done and in all, over the whole job (not per epoch).
        let step: Int
        let steps: Int
        let eta_seconds: Double?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(epoch, forKey: .epoch)
            try container.encode(epochs, forKey: .epochs)
            try container.encode(step, forKey: .step)
            try container.encode(steps, forKey: .steps)
            try container.encode(eta_seconds, forKey: .eta_seconds)
        }
        enum CodingKeys: String, CodingKey { case epoch, epochs, step, steps, eta_seconds }
    }

    struct ErrorObject: Encodable, Sendable {
        let code: String
        let message: String
        let param: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            try container.encode(param, forKey: .param)
        }
        enum CodingKeys: String, CodingKey { case code, message, param }
    }

    let id: String
    let status: JobStatus
    let created_at: Int64
    let started_at: Int64?
    let finished_at: Int64?
    let model: String
    let method: String
    let dataset: String
    let validation_dataset: String?
    let hyperparameters: TuningHyperparameters
    let seed: Int64
    let suffix: String?
    let progress: Progress
    let metrics: JobMetricsSummary?
    let prompt_set: String?
    let error: ErrorObject?
    let cancel_requested: Bool
    /// The fencing token (+1 on every claim) and the replica holding the job's lease while it runs.
    let attempt: Int
    let replica: String?

    init(_ job: JobRecord) throws {
        id = job.id
        status = job.status
        created_at = job.createdAt
        started_at = job.startedAt
        finished_at = job.finishedAt
        model = job.model
        method = job.method
        dataset = job.datasetID
        validation_dataset = job.validationDatasetID
        hyperparameters = try JSONDecoder().decode(TuningHyperparameters.self, from: Data(job.hyperparameters.utf8))
        seed = job.seed
        suffix = job.suffix
        progress = Progress(epoch: job.epoch, epochs: job.epochs, step: job.step, steps: job.steps, eta_seconds: job.etaSeconds)
        metrics = try job.metrics.map { try JSONDecoder().decode(JobMetricsSummary.self, from: Data($0.utf8)) }
        prompt_set = job.promptSetID
        error = job.errorCode.map { ErrorObject(code: $0, message: ServerPathRedaction.clean(job.errorMessage ?? ""), param: job.errorParam) }
        cancel_requested = job.cancelRequested
        attempt = job.attempt
        replica = job.status.isFinished || job.status == .queued ? nil : job.claimedBy
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("tuning.job", forKey: .object)
        try container.encode(status, forKey: .status)
        try container.encode(created_at, forKey: .created_at)
        try container.encode(started_at, forKey: .started_at)
        try container.encode(finished_at, forKey: .finished_at)
        try container.encode(model, forKey: .model)
        try container.encode(method, forKey: .method)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(validation_dataset, forKey: .validation_dataset)
        try container.encode(hyperparameters, forKey: .hyperparameters)
        try container.encode(seed, forKey: .seed)
        try container.encode(suffix, forKey: .suffix)
        try container.encode(progress, forKey: .progress)
        try container.encode(metrics, forKey: .metrics)
        try container.encode(prompt_set, forKey: .prompt_set)
        try container.encode(error, forKey: .error)
        try container.encode(cancel_requested, forKey: .cancel_requested)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(replica, forKey: .replica)
    }

    enum CodingKeys: String, CodingKey {
        case id, object, status, created_at, started_at, finished_at, model, method, dataset, validation_dataset
        case hyperparameters, seed, suffix, progress, metrics, prompt_set, error, cancel_requested, attempt, replica
    }
}

/// One event of a job's log as the API shows it.
struct JobEventObject: Encodable, Sendable {
    let id: String
    let created_at: Int64
    let level: String
    let type: String
    let message: String
    let data: JobEventData?
    /// The owner attempt and replica that wrote the event; null for events the API wrote.
    let attempt: Int?
    let replica: String?

    init(_ event: JobEventRecord) throws {
        id = event.id
        created_at = event.createdAt
        level = event.level
        type = event.type
        message = event.message
        data = try event.data.map { try JSONDecoder().decode(JobEventData.self, from: Data($0.utf8)) }
        attempt = event.attempt
        replica = event.replica
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("tuning.job.event", forKey: .object)
        try container.encode(created_at, forKey: .created_at)
        try container.encode(level, forKey: .level)
        try container.encode(type, forKey: .type)
        try container.encode(message, forKey: .message)
        try container.encode(data, forKey: .data)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(replica, forKey: .replica)
    }

    enum CodingKeys: String, CodingKey { case id, object, created_at, level, type, message, data, attempt, replica }
}
