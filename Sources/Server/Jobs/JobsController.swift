import CLIP
import Foundation
import Hummingbird
import Tuning

/// The tuning-job routes, shaped like OpenAI's fine-tuning jobs: create (201), list with cursor
/// pagination, get, events, and cooperative cancel (409 once finished).
struct JobsController: Sendable {
    let layout: DataLayout
    let database: any TuningStore
    let signal: WakeSignal
    let cancellations: CancellationRequests

    func register(on router: TableRouter) {
        router.post("/v1/tuning/jobs") { request, context in try await create(request, context: context) }
        router.get("/v1/tuning/jobs") { request, _ in try await list(request) }
        router.get("/v1/tuning/jobs/{id}") { _, context in try JobObject(try await job(context.parameters.require("id"))) }
        router.get("/v1/tuning/jobs/{id}/events") { request, context in try await events(request, id: context.parameters.require("id")) }
        router.post("/v1/tuning/jobs/{id}/cancel") { _, context in try await cancel(context.parameters.require("id")) }
    }

    func create(_ request: Request, context: TagTuneRequestContext) async throws -> Response {
        if let type = request.headers[.contentType], MediaType(from: type).map({ $0.isType(.applicationJson) }) != true {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type",
                           message: "send the job as JSON (Content-Type: application/json), not '\(type)'")
        }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let parsed = try JSONRequestBody.decode(JobRequest.self, from: body)
        guard Self.isCheckpointFolder(layout.model(parsed.model)) else {
            throw APIError(.notFound, code: "model_not_found",
                           message: "no encoder '\(parsed.model)' in the models folder (models.dir)", param: "model")
        }
        if let training = try await database.dataset(parsed.dataset), training.imageCount < 2 {
            throw APIError(.unprocessableContent, code: "invalid_value",
                           message: "dataset \(parsed.dataset) has \(training.imageCount) image; training needs at least 2", param: "dataset")
        }
        var h = parsed.hyperparameters
        h.seed = parsed.seed
        let record = JobRecord(
            id: ResourceID.make("ftjob-"), createdAt: unixNow(), status: .queued, model: parsed.model,
            method: parsed.method.rawValue, datasetID: parsed.dataset, validationDatasetID: parsed.validationDataset,
            hyperparameters: String(decoding: try JSONEncoder.sortedKeys.encode(h), as: UTF8.self),
            seed: Int64(parsed.seed), suffix: parsed.suffix, epochs: h.epochs)
        var datasets = [(param: "dataset", id: parsed.dataset)]
        if let validation = parsed.validationDataset { datasets.append((param: "validation_dataset", id: validation)) }
        let event = NewJobEvent.message("created: \(parsed.method.rawValue) on dataset \(parsed.dataset) with encoder \(parsed.model), "
                                        + "\(h.epochs) epochs, seed \(parsed.seed)")
        switch try await database.createJob(record, datasets: datasets, event: event) {
        case .missingDataset(let param, let id):
            throw APIError(.notFound, code: "dataset_not_found", message: "no dataset '\(id)'", param: param)
        case .created(let job):
            signal.ring()
            context.logger.info("job created", metadata: ["job": .string(job.id)])
            return try EditedResponse(status: .created, response: try JobObject(job)).response(from: request, context: context)
        }
    }

    func list(_ request: Request) async throws -> ListObject<JobObject> {
        let query = try ListQuery(request)
        guard let page = try await database.jobs(after: query.after, limit: query.limit) else { throw query.unknownCursor("job") }
        return ListObject(data: try page.items.map(JobObject.init), has_more: page.hasMore)
    }

    func job(_ id: String) async throws -> JobRecord {
        guard ResourceID.isWellFormed(id, prefix: "ftjob-"), let job = try await database.job(id) else { throw Self.notFound(id) }
        return job
    }

    func events(_ request: Request, id: String) async throws -> ListObject<JobEventObject> {
        let query = try ListQuery(request)
        _ = try await job(id)
        guard let page = try await database.events(jobID: id, after: query.after, limit: query.limit) else {
            throw query.unknownCursor("event of job \(id)")
        }
        return ListObject(data: try page.items.map(JobEventObject.init), has_more: page.hasMore)
    }

    func cancel(_ id: String) async throws -> JobObject {
        guard ResourceID.isWellFormed(id, prefix: "ftjob-") else { throw Self.notFound(id) }
        switch try await database.cancelJob(id) {
        case .notFound:
            throw Self.notFound(id)
        case .finished(let job):
            throw APIError(.conflict, code: "job_finished", message: "job \(id) has already \(job.status.rawValue); nothing to cancel")
        case .cancelled(let job):
            return try JobObject(job)
        case .requested(let job):
            cancellations.request(id)
            return try JobObject(job)
        }
    }

    static func notFound(_ id: String) -> APIError {
        APIError(.notFound, code: "job_not_found", message: "no tuning job '\(id)'")
    }

    /// A folder holding a checkpoint in one of the two layouts `CLIPModel` reads.
    static func isCheckpointFolder(_ folder: URL) -> Bool {
        CheckpointFolder.inspect(folder) != .notACheckpoint
    }
}
