import Foundation
import Hummingbird
import Tuning

/// The batch-tagging routes: create from a dataset (JSON) or an uploaded zip of images (options in
/// the query), list, get, events, cancel, and the results as JSON Lines or CSV, streamed from disk.
/// Options are checked at creation (the prompt set, model and classes must resolve, as for
/// `/v1/tag`), so a batch never fails later for a typo.
struct BatchesController: Sendable {
    let layout: DataLayout
    let database: any TuningStore
    let signal: WakeSignal
    let cancellations: CancellationRequests
    let tagging: TaggingLink
    let maximumUploadBytes: Int
    let zipLimits: ZipLimits

    static let idPrefix = "batch-"

    func register(on router: TableRouter) {
        router.post("/v1/batches") { request, context in try await create(request, context: context) }
        router.get("/v1/batches") { request, _ in try await list(request) }
        router.get("/v1/batches/{id}") { _, context in try BatchObject(try await batch(context.parameters.require("id"))) }
        router.get("/v1/batches/{id}/events") { request, context in try await events(request, id: context.parameters.require("id")) }
        router.post("/v1/batches/{id}/cancel") { _, context in try await cancel(context.parameters.require("id")) }
        router.get("/v1/batches/{id}/results") { request, context in
            try await results(request, id: context.parameters.require("id"), context: context)
        }
    }

    func create(_ request: Request, context: TagTuneRequestContext) async throws -> Response {
        guard let tagger = tagging.tagger else {
            throw APIError(.serviceUnavailable, code: "tagging_unavailable", message: "this server has no tagging pipeline to run batches with")
        }
        let type = request.headers[.contentType].flatMap { MediaType(from: $0) }
        let id = ResourceID.make(Self.idPrefix)
        let folder = layout.batch(id)
        let files = FileManager.default
        var options: BatchOptions
        var images: Int
        var datasets: [(param: String, id: String)] = []
        if type?.isType(.applicationJson) == true {
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            let parsed = try JSONRequestBody.decode(BatchJSONBody.self, from: body)
            var tagOptions = parsed.options
            try tagOptions.validate()
            guard ResourceID.isWellFormed(parsed.dataset, prefix: "ds-"), let dataset = try await database.dataset(parsed.dataset) else {
                throw APIError(.notFound, code: "dataset_not_found", message: "no dataset '\(parsed.dataset)'", param: "dataset")
            }
            options = BatchOptions(dataset: dataset.id, archiveName: nil, options: tagOptions)
            images = dataset.imageCount
            datasets = [("dataset", dataset.id)]
        } else {
            // A zip of images: the tagging options come in the query, as for a raw image on /v1/tag.
            var tagOptions = TagOptions()
            for (name, value) in request.uri.queryParameters {
                try tagOptions.set(String(name), text: String(value), source: "query parameter")
            }
            try tagOptions.validate()
            let upload = layout.uploads.appendingPathComponent(UUID().uuidString, isDirectory: true)
            try files.createDirectory(at: upload, withIntermediateDirectories: true)
            defer { try? files.removeItem(at: upload) }
            let received = try await DatasetUploadReceiver.receive(request, to: upload.appendingPathComponent("upload"),
                                                                   maximumBytes: maximumUploadBytes)
            let zipLimits = self.zipLimits
            let count: Int
            do {
                count = try await OffloadedWork.run { try ImageArchive.open(received.file, limits: zipLimits).imagePaths.count }
            } catch let error as DatasetValidationError {
                return try DatasetRejection(error: error, code: "invalid_archive").response()
            }
            // The client's own file name (multipart), when it gave one.
            options = BatchOptions(dataset: nil, archiveName: received.fileName.map { DatasetsController.archiveName($0) }, options: tagOptions)
            images = count
            try files.createDirectory(at: folder, withIntermediateDirectories: true)
            try files.moveItem(at: received.file, to: BatchInput.archive(in: folder))
        }
        do {
            // Resolves the prompt set (or the zero-shot classes) and the model now: 404/409/422 here, not a failed batch.
            let plan = try await tagger.plan(options.tagOptions)
            options.model = plan.encoder.name
            let record = JobRecord(
                id: id, createdAt: unixNow(), status: .queued, model: plan.encoder.name,
                method: plan.promptSet == nil ? "zero_shot" : "prompt_set", datasetID: options.dataset ?? "",
                hyperparameters: "{}", seed: 0, epochs: 0, steps: images, promptSetID: plan.promptSet, kind: .batch,
                options: String(decoding: try JSONEncoder.sortedKeys.encode(options), as: UTF8.self))
            let what = options.dataset.map { "dataset \($0)" } ?? "uploaded \(options.archiveName ?? "zip")"
            let event = NewJobEvent.message("created: \(images) images of \(what), \(plan.promptSet.map { "prompt set \($0)" } ?? "zero-shot classes") on \(plan.encoder.name)")
            switch try await database.createJob(record, datasets: datasets, event: event) {
            case .missingDataset(let param, let id):
                throw APIError(.notFound, code: "dataset_not_found", message: "no dataset '\(id)'", param: param)
            case .created(let job):
                signal.ring()
                context.logger.info("batch created", metadata: ["batch": .string(job.id), "images": .stringConvertible(images)])
                return try EditedResponse(status: .created, response: try BatchObject(job)).response(from: request, context: context)
            }
        } catch {
            try? files.removeItem(at: folder)
            throw error
        }
    }

    func list(_ request: Request) async throws -> ListObject<BatchObject> {
        let query = try ListQuery(request)
        guard let page = try await database.jobs(after: query.after, limit: query.limit, kind: .batch) else { throw query.unknownCursor("batch") }
        return ListObject(data: try page.items.map(BatchObject.init), has_more: page.hasMore)
    }

    func batch(_ id: String) async throws -> JobRecord {
        guard ResourceID.isWellFormed(id, prefix: Self.idPrefix), let job = try await database.job(id, kind: .batch) else {
            throw Self.notFound(id)
        }
        return job
    }

    func events(_ request: Request, id: String) async throws -> ListObject<JobEventObject> {
        let query = try ListQuery(request)
        _ = try await batch(id)
        guard let page = try await database.events(jobID: id, after: query.after, limit: query.limit) else {
            throw query.unknownCursor("event of batch \(id)")
        }
        return ListObject(data: try page.items.map(JobEventObject.init), has_more: page.hasMore)
    }

    func cancel(_ id: String) async throws -> BatchObject {
        _ = try await batch(id)
        switch try await database.cancelJob(id) {
        case .notFound:
            throw Self.notFound(id)
        case .finished(let job):
            throw APIError(.conflict, code: "batch_finished", message: "batch \(id) has already \(job.status.rawValue); nothing to cancel")
        case .cancelled(let job):
            try? FileManager.default.removeItem(at: layout.batch(id))
            return try BatchObject(job)
        case .requested(let job):
            cancellations.request(id)
            return try BatchObject(job)
        }
    }

    /// `?format=jsonl` (the default) or `csv`; 409 until the batch has results.
    func results(_ request: Request, id: String, context: TagTuneRequestContext) async throws -> Response {
        let job = try await batch(id)
        let format = request.uri.queryParameters["format"].map(String.init) ?? "jsonl"
        for (name, _) in request.uri.queryParameters where name != "format" {
            throw APIError.unknownParameter(String(name), "unknown query parameter '\(name)'; expected format")
        }
        let (file, type): (URL, String)
        switch format {
        case "jsonl": (file, type) = (BatchResultsFile.jsonl(in: layout.batch(id)), "application/jsonl; charset=utf-8")
        case "csv": (file, type) = (BatchResultsFile.csv(in: layout.batch(id)), "text/csv; charset=utf-8")
        default:
            throw APIError(.unprocessableContent, code: "invalid_value", message: "format must be jsonl or csv, got '\(format)'", param: "format")
        }
        guard try BatchObject(job).hasResults, FileManager.default.fileExists(atPath: file.path) else {
            throw APIError(.conflict, code: "results_not_ready",
                           message: "batch \(id) is \(job.status.rawValue); results are written when it succeeds (or the rows so far when cancelled)")
        }
        let body = try await FileIO().loadFile(path: file.path, context: context)
        var headers: HTTPFields = [.contentType: type]
        headers[.contentDisposition] = "attachment; filename=\"\(id).\(format)\""
        return Response(status: .ok, headers: headers, body: body)
    }

    static func notFound(_ id: String) -> APIError {
        APIError(.notFound, code: "batch_not_found", message: "no batch '\(id)'")
    }
}
