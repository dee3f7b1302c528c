import CLIP
import Foundation
import Imaging
import Logging
import NIOConcurrencyHelpers
import Tuning

/// The tagging half of the application, given to the batch runner and the batch routes once the
/// application has built it (the job backend is built first, and tests build it alone).
final class TaggingLink: Sendable {
    private let box = NIOLockedValueBox<Tagger?>(nil)
    func connect(_ tagger: Tagger) { box.withLockedValue { $0 = tagger } }
    var tagger: Tagger? { box.withLockedValue { $0 } }
}

/// Runs one claimed batch job: opens its images, tags them through the shared batcher a group of
/// chunks at a time (decoding in parallel while earlier chunks encode, so the batcher's batches stay
/// full), appends each group's rows to the results file before recording the progress, and at the
/// end writes `results.jsonl` and `results.csv`. A restart resumes after the last row written; a
/// cancelled batch keeps the rows it wrote; a broken image fails its own row, not the batch.
final class BatchRunner: Sendable {
    let layout: DataLayout
    let datasets: DatasetCache
    let tagging: TaggingLink
    let cancellations: CancellationRequests
    let decodeLimits: DecodeLimits
    let zipLimits: ZipLimits
    let logger: Logger
    private let shuttingDown = CancellationFlag()

    /// Chunks decoded and queued at once: enough to keep the batcher's next batch filling while one encodes.
    static let chunksInFlight = 4
    /// A progress event at most this often (and at every tenth of the images).
    static let eventInterval: Duration = .seconds(30)

    init(layout: DataLayout, datasets: DatasetCache, tagging: TaggingLink, cancellations: CancellationRequests,
         decodeLimits: DecodeLimits, zipLimits: ZipLimits, logger: Logger) {
        self.layout = layout
        self.datasets = datasets
        self.tagging = tagging
        self.cancellations = cancellations
        self.decodeLimits = decodeLimits
        self.zipLimits = zipLimits
        self.logger = logger
    }

    func beginShutdown() { shuttingDown.set() }

    func run(_ owner: JobOwnership) async {
        let job = owner.claim.job
        var logger = logger
        logger[metadataKey: "batch"] = .string(job.id)
        let folder = layout.batch(job.id)
        do {
            try await tag(owner, folder: folder, logger: logger)
        } catch JobStop.shutdown {
            await requeue(owner, logger: logger)
        } catch JobStop.cancelled {
            // Only before the batch's classes are known (tag() handles a cancel once they are).
            await finishCancelled(owner, folder: folder, classNames: [], logger: logger)
        } catch _ where owner.isLost {
            logger.warning("batch abandoned: another replica holds it now")
        } catch let failure as JobFailure {
            await fail(owner, folder: folder, failure, logger: logger)
        } catch where OutOfSpace.matches(error) {
            await fail(owner, folder: folder, JobRunner.outOfSpace, logger: logger)
        } catch {
            await fail(owner, folder: folder, JobFailure("internal_error", "the batch stopped on an unexpected error: \(error)"), logger: logger)
        }
        cancellations.clear(job.id)
    }

    private func checkStop(_ id: String) throws {
        if cancellations.isRequested(id) { throw JobStop.cancelled }
        if shuttingDown.isSet { throw JobStop.shutdown }
    }

    private func tag(_ owner: JobOwnership, folder: URL, logger: Logger) async throws {
        let job = owner.claim.job
        let id = job.id
        guard let tagger = tagging.tagger else {
            throw JobFailure("tagging_unavailable", "this server has no tagging pipeline to run batches with")
        }
        let options = try JSONDecoder().decode(BatchOptions.self, from: Data((job.options ?? "{}").utf8))
        let plan: Tagger.Plan
        do { plan = try await tagger.plan(options.tagOptions) } catch let error as any APIErrorConvertible {
            // The prompt set or model was removed after the batch was created.
            throw JobFailure(error.apiError.code, error.apiError.message, param: error.apiError.param)
        }
        let (datasets, decodeLimits, zipLimits) = (self.datasets, self.decodeLimits, self.zipLimits)
        let input: BatchInput
        do {
            var record: DatasetRecord?
            if let id = options.dataset {
                record = try await owner.write { store, _ in try await store.dataset(id) }
                if record == nil { throw JobFailure("invalid_input", "dataset \(id) was deleted", param: "dataset") }
            }
            let stored = record
            input = try await OffloadedWork.run {
                try BatchInput.open(options, folder: folder, dataset: try stored.map { try datasets.folder(for: $0) },
                                    decodeLimits: decodeLimits, zipLimits: zipLimits)
            }
        } catch let failure as JobFailure {
            throw failure
        } catch let lost as LeaseLost {
            throw lost
        } catch {
            throw JobFailure("invalid_input", "the batch's images cannot be read: \(error)", param: options.dataset == nil ? "file" : "dataset")
        }
        let results = BatchResultsFile(folder: folder)
        var done = try results.resume()
        let total = input.count
        var events: [NewJobEvent] = [.message("running: \(total) images with \(plan.promptSet.map { "prompt set \($0)" } ?? "zero-shot classes") on \(plan.encoder.name)")]
        if done > 0 { events.append(.message("resumed after the \(done) images already written")) }
        try await owner.write { [events, done] store, lease in
            try await store.updateJob(lease, events: events) { job in
                job.status = .running
                job.steps = total
                job.step = done
            }
        }

        let clock = ContinuousClock()
        let began = clock.now, firstDone = done
        var lastEvent = began, lastTenth = done * 10 / max(total, 1)
        let chunk = tagger.batcher.configuration.maxBatchSize
        while done < total {
            let rows: [BatchResultRow]
            let group = done..<min(done + chunk * Self.chunksInFlight, total)
            do {
                if owner.isLost { throw LeaseLost(lease: owner.lease) }
                try checkStop(id)
                rows = try await tagGroup(group, chunk: chunk, input: input, plan: plan, options: options.tagOptions,
                                          tagger: tagger, jobID: id)
            } catch JobStop.cancelled {
                // The rows written so far stay downloadable, with the plan's class columns.
                await finishCancelled(owner, folder: folder, classNames: plan.classNames, logger: logger)
                return
            }
            try results.append(rows)
            done = group.upperBound
            let elapsed = (clock.now - began).seconds
            let rate = Double(done - firstDone) / max(elapsed, 1e-9)
            var progress: [NewJobEvent] = []
            let tenth = done * 10 / total
            if tenth > lastTenth || clock.now - lastEvent >= Self.eventInterval || done == total {
                progress.append(.message(String(format: "tagged %d/%d images (%.1f images/s)", done, total, rate)))
                (lastEvent, lastTenth) = (clock.now, tenth)
            }
            let (step, eta) = (done, Double(total - done) / max(rate, 1e-9))
            try await owner.write { [progress] store, lease in
                try await store.updateJob(lease, events: progress) { job in
                    job.step = step
                    job.etaSeconds = eta
                }
            }
        }

        let counts = try results.finish(classNames: plan.classNames)
        try? FileManager.default.removeItem(at: BatchInput.archive(in: folder))
        let seconds = (clock.now - began).seconds
        let summary = BatchSummary(images: counts.rows, failed: counts.failed,
                                   imagesPerSecond: seconds > 0 ? Double(done - firstDone) / seconds : nil)
        let metrics = String(decoding: try JSONEncoder.sortedKeys.encode(summary), as: UTF8.self)
        try await owner.write { store, lease in
            try await store.finishJob(lease, events: [.message("succeeded: \(counts.rows) images tagged, \(counts.failed) could not be read")]) { job in
                job.status = .succeeded
                job.finishedAt = unixNow()
                job.etaSeconds = 0
                job.metrics = metrics
            }
        }
        logger.info("batch succeeded", metadata: ["images": .stringConvertible(counts.rows), "failed": .stringConvertible(counts.failed)])
    }

    /// Rows for the images of `group`, in order: chunks decoded in parallel and encoded by the batcher.
    private func tagGroup(_ group: Range<Int>, chunk: Int, input: BatchInput, plan: Tagger.Plan, options: TagOptions,
                          tagger: Tagger, jobID: String) async throws -> [BatchResultRow] {
        let chunks = stride(from: group.lowerBound, to: group.upperBound, by: chunk).map { $0..<min($0 + chunk, group.upperBound) }
        return try await withThrowingTaskGroup(of: (Int, [BatchResultRow]).self) { tasks in
            for (position, indices) in chunks.enumerated() {
                tasks.addTask {
                    (position, try await self.tagChunk(indices, input: input, plan: plan, options: options, tagger: tagger, jobID: jobID))
                }
            }
            var byPosition: [Int: [BatchResultRow]] = [:]
            for try await (position, rows) in tasks { byPosition[position] = rows }
            return chunks.indices.flatMap { byPosition[$0]! }
        }
    }

    private func tagChunk(_ indices: Range<Int>, input: BatchInput, plan: Tagger.Plan, options: TagOptions, tagger: Tagger,
                          jobID: String) async throws -> [BatchResultRow] {
        let limits = decodeLimits
        let prepared: [Result<PreparedImage, BatchResultRow.Failure>] = try await OffloadedWork.run(qos: .utility) {
            indices.map { index in
                do {
                    let image = UploadedImage(bytes: try input.bytes(at: index), filename: input.names[index], param: "image")
                    return .success(try ImagePreparation.prepareNow(image, for: plan.encoder, limits: limits))
                } catch let error as APIError {
                    return .failure(.init(code: error.code, message: error.message))
                } catch {
                    return .failure(.init(code: "unreadable_image", message: "\(input.names[index]): \(error)"))
                }
            }
        }
        let pixels = prepared.compactMap { try? $0.get().pixels }
        let features = pixels.isEmpty ? [] : try await encode(pixels, plan: plan, tagger: tagger, jobID: jobID).flatMap(\.features)
        var labels = plan.labels(features, options: options).makeIterator()
        var rows: [BatchResultRow] = []
        for (index, outcome) in zip(indices, prepared) {
            var row = BatchResultRow(index: index, image: input.names[index])
            switch outcome {
            case .success(let image):
                row.width = image.width
                row.height = image.height
                row.labels = labels.next()!.map(BatchResultRow.Label.init)
            case .failure(let failure):
                row.error = failure
            }
            rows.append(row)
        }
        return rows
    }

    /// The batcher's encode, waiting (not failing) while interactive requests fill its queue.
    private func encode(_ pixels: [[Float]], plan: Tagger.Plan, tagger: Tagger, jobID: String) async throws -> [EncodedImage] {
        while true {
            do {
                return try await tagger.batcher.encode(pixels, with: plan.encoder)
            } catch BatcherError.queueFull {
                try checkStop(jobID)
                try await Task.sleep(for: .milliseconds(20))
            } catch BatcherError.shuttingDown {
                throw JobStop.shutdown
            }
        }
    }

    /// Ends a cancelled batch, keeping the rows written so far as its results.
    private func finishCancelled(_ owner: JobOwnership, folder: URL, classNames: [String], logger: Logger) async {
        let written = try? BatchResultsFile(folder: folder).finish(classNames: classNames)
        try? FileManager.default.removeItem(at: BatchInput.archive(in: folder))
        do {
            let summary = written.map { BatchSummary(images: $0.rows, failed: $0.failed, imagesPerSecond: nil) }
            let metrics = try summary.map { String(decoding: try JSONEncoder.sortedKeys.encode($0), as: UTF8.self) }
            try await owner.write { store, lease in
                try await store.finishJob(lease, events: [.message("cancelled after \(written?.rows ?? 0) images; their results are kept")]) { job in
                    job.status = .cancelled
                    job.finishedAt = unixNow()
                    job.etaSeconds = nil
                    job.metrics = metrics
                }
            }
            logger.info("batch cancelled")
        } catch {
            logger.error("cannot record the batch's end", metadata: ["error": "\(error)"])
        }
    }

    /// Hands a batch stopped by a shutdown back; it goes on after its last written row.
    private func requeue(_ owner: JobOwnership, logger: Logger) async {
        do {
            try await owner.write { store, lease in
                try await store.releaseJob(lease, event: .message(
                    "stopped by a server shutdown; it goes on after the images already written when the server starts again"))
            }
            logger.info("batch stopped for shutdown")
        } catch {
            logger.error("cannot record the batch's end", metadata: ["error": "\(error)"])
        }
    }

    private func fail(_ owner: JobOwnership, folder: URL, _ failure: JobFailure, logger: Logger) async {
        logger.error("batch failed", metadata: ["code": .string(failure.code), "message": .string(failure.message)])
        try? FileManager.default.removeItem(at: folder)
        do {
            try await owner.write { store, lease in
                try await store.finishJob(lease, events: [.message("failed: \(failure.message)", level: .error)]) { $0.markFailed(failure) }
            }
        } catch {
            logger.error("cannot record the batch's failure", metadata: ["error": "\(error)"])
        }
    }
}

/// A finished batch's counts, stored in the job's `metrics`.
struct BatchSummary: Codable, Sendable {
    let images: Int
    let failed: Int
    let imagesPerSecond: Double?

    enum CodingKeys: String, CodingKey {
        case images, failed
        case imagesPerSecond = "images_per_second"
    }
}
