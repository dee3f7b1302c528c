import CLIP
import Foundation
import Imaging
import Logging
import Tuning

/// Runs one claimed job to its end: loads the encoder and the datasets, prepares the features
/// (through the shared feature cache), trains with a checkpoint after every epoch (resuming from
/// one when it exists), writes the prompt set atomically and records it, writing progress and
/// events to the database as it goes. Training runs on a Dispatch thread, off the event loops.
final class JobRunner: Sendable {
    let layout: DataLayout
    let database: TuningDatabase
    let loadEncoder: @Sendable (String) async throws -> CLIPModel
    let cancellations: CancellationRequests
    let metrics: JobMetrics
    let decodeLimits: DecodeLimits
    let files: JobFileWriter
    let logger: Logger
    private let shuttingDown = CancellationFlag()

    init(layout: DataLayout, database: TuningDatabase, loadEncoder: @escaping @Sendable (String) async throws -> CLIPModel,
         cancellations: CancellationRequests, metrics: JobMetrics, decodeLimits: DecodeLimits, files: JobFileWriter = .disk,
         logger: Logger) {
        self.layout = layout
        self.database = database
        self.loadEncoder = loadEncoder
        self.cancellations = cancellations
        self.metrics = metrics
        self.decodeLimits = decodeLimits
        self.files = files
        self.logger = logger
    }

    /// Running jobs stop at their next step and are re-queued, to resume from their last checkpoint.
    func beginShutdown() { shuttingDown.set() }

    /// The prompt set a job writes: `ps-[suffix-]<the job id's random part>`.
    static func promptSetID(jobID: String, suffix: String?) -> String {
        "ps-" + (suffix.map { $0 + "-" } ?? "") + jobID.dropFirst("ftjob-".count)
    }

    func run(_ job: JobRecord) async {
        var logger = logger
        logger[metadataKey: "job"] = .string(job.id)
        logger.info("job started", metadata: ["model": .string(job.model), "dataset": .string(job.datasetID)])
        do {
            try checkStop(job.id)
            let model: CLIPModel
            do { model = try await loadEncoder(job.model) } catch let stop as JobStop { throw stop } catch {
                throw JobFailure("model_load_failed", "the encoder '\(job.model)' cannot be loaded: \(error)", param: "model")
            }
            let logger = logger
            try await OffloadedWork.run(qos: .utility) { try self.train(job, model: model, logger: logger) }
            logger.info("job succeeded")
        } catch let stop as JobStop {
            finish(job.id, stop: stop, logger: logger)
        } catch let failure as JobFailure {
            fail(job.id, failure, logger: logger)
        } catch where OutOfSpace.matches(error) {
            fail(job.id, Self.outOfSpace, logger: logger)
        } catch {
            fail(job.id, JobFailure("internal_error", "the job stopped on an unexpected error: \(error)"), logger: logger)
        }
        cancellations.clear(job.id)
    }

    private func checkStop(_ id: String) throws {
        if cancellations.isRequested(id) { throw JobStop.cancelled }
        if shuttingDown.isSet { throw JobStop.shutdown }
    }

    /// The blocking part: datasets, features, training, artifact.
    private func train(_ job: JobRecord, model: CLIPModel, logger: Logger) throws {
        let id = job.id
        let h = try JSONDecoder().decode(TuningHyperparameters.self, from: Data(job.hyperparameters.utf8))
        let training = try loadDataset(job.datasetID, param: "dataset")
        let validation = try job.validationDatasetID.map { try loadDataset($0, param: "validation_dataset") }
        try checkStop(id)

        try database.updateJob(id, events: [.message("running: encoding images and captions")]) { $0.status = .running }
        let promptSetID = Self.promptSetID(jobID: id, suffix: job.suffix)
        var run = TuningRun(model: model, training: training,
                            validation: validation.map { .given($0) } ?? .folds,
                            hyperparameters: h, featureCacheRoot: layout.features, encoderName: job.model,
                            promptSetID: promptSetID)
        run.decodeLimits = decodeLimits
        var stagesSeen: Set<String> = []
        let prepared: (data: TrainingData, training: Dataset, validation: Dataset)
        do {
            prepared = try run.prepare(events: { event in
                guard case .stage(let name, _, let total) = event, stagesSeen.insert(name).inserted else { return }
                try? self.database.appendEvent(.message("\(name) (\(total))"), jobID: id)
            }, isCancelled: { self.cancellations.isRequested(id) || self.shuttingDown.isSet })
        } catch TuningError.cancelled {
            throw cancellations.isRequested(id) ? JobStop.cancelled : JobStop.shutdown
        } catch let error as DatasetValidationError {
            throw JobFailure("invalid_dataset", error.description, param: validation == nil ? "dataset" : "validation_dataset")
        } catch let error as TuningError {
            throw JobFailure("invalid_training_data", error.description, param: "dataset")
        } catch where OutOfSpace.matches(error) {
            throw Self.outOfSpace   // the feature cache found the disk full
        } catch {
            throw JobFailure("feature_extraction_failed", "the images cannot be encoded: \(error)", param: "dataset")
        }
        try checkStop(id)

        let stepsPerEpoch = (prepared.data.trainCount + h.batchSize - 1) / h.batchSize
        let totalSteps = h.epochs * stepsPerEpoch
        let folder = layout.job(id)
        var resume: TrainingState?
        do { resume = try JobCheckpoint.load(from: folder, jobID: id)?.state } catch {
            logger.warning("unreadable checkpoint; starting again", metadata: ["error": "\(error)"])
        }
        let scoredOn = prepared.validation.items.isEmpty
            ? "\(h.folds)-fold selection on the training images" : "\(prepared.validation.items.count) images for validation"
        let searching = h.method == .auto ? String(format: "searching settings for up to %g minutes, ", h.budgetMinutes) : ""
        var events: [NewJobEvent] = [.message(
            "training \(prepared.training.items.count) images (\(scoredOn)), \(searching)up to \(h.epochs) epochs of \(stepsPerEpoch) steps")]
        if let resume, resume.epochsDone > 0 {
            events.append(.message("resumed from the checkpoint of epoch \(resume.epochsDone)/\(h.epochs)",
                                   data: JobEventData(epoch: resume.epochsDone, epochs: h.epochs)))
        }
        let firstStep = (resume?.epochsDone ?? 0) * stepsPerEpoch
        try database.updateJob(id, events: events) { job in
            job.epochs = h.epochs
            job.steps = totalSteps
            job.epoch = resume?.epochsDone ?? 0
            job.step = firstStep
        }

        let clock = ContinuousClock()
        let began = clock.now
        var lastStep = began
        var finalEpochs = h.epochs
        let promptSet: PromptSet
        do {
            promptSet = try run.train(
                prepared.data, resume: resume,
                events: { event in
                    switch event {
                    case .training(let e):
                        self.record(e, jobID: id, epochs: finalEpochs, firstStep: firstStep, totalSteps: finalEpochs * stepsPerEpoch,
                                    elapsed: (clock.now - began).seconds, since: &lastStep, clock: clock, logger: logger)
                    case .candidate(let index, let candidate):
                        self.recordCandidate(index, candidate, jobID: id, logger: logger)
                    case .selected(let epochs, let selection):
                        finalEpochs = epochs
                        try? self.database.updateJob(id, events: [.message("selected: \(selection.reason); training on all images")]) { job in
                            job.epochs = epochs
                            job.steps = epochs * stepsPerEpoch
                        }
                    case .stage, .selection:
                        break
                    }
                },
                checkpoint: { state in
                    try self.files.checkpoint(JobCheckpoint(jobID: id, state: state), folder)
                    try self.database.appendEvent(.message("checkpoint saved after epoch \(state.epochsDone)/\(h.epochs)"), jobID: id)
                    lastStep = clock.now
                },
                isCancelled: { self.cancellations.isRequested(id) || self.shuttingDown.isSet })
        } catch TuningError.cancelled {
            throw cancellations.isRequested(id) ? JobStop.cancelled : JobStop.shutdown
        } catch let error as TuningError {
            throw JobFailure("training_failed", error.description)
        } catch where OutOfSpace.matches(error) {
            throw Self.outOfSpace   // a checkpoint, or its event, found the disk full
        }

        // The artifact first (atomic folder rename), then the job's success: a crash in between
        // resumes the job from its last checkpoint and writes it again.
        let artifact = layout.promptSet(promptSetID)
        do { try files.promptSet(promptSet, artifact) } catch where OutOfSpace.matches(error) {
            throw Self.outOfSpace
        } catch {
            throw JobFailure("artifact_write_failed", "the prompt set cannot be written to \(artifact.path): \(error)")
        }
        let summary = promptSet.manifest.metrics.map(JobMetricsSummary.init)
        let metricsJSON = try summary.map { String(decoding: try JSONEncoder.sortedKeys.encode($0), as: UTF8.self) }
        let mapText = summary.map { String(format: "; validation mAP %.2f", $0.validationMap) } ?? ""
        try database.completeJob(id, promptSetID: promptSetID, event: .message("succeeded: prompt set \(promptSetID) written\(mapText)")) { job in
            // Progress stays where the last epoch left it (before `epochs` when early stopping ended the run).
            job.finishedAt = unixNow()
            job.metrics = metricsJSON
            job.etaSeconds = 0
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Progress, a metrics event and the step-time histogram for one trainer event.
    private func record(_ e: TrainingEvent, jobID: String, epochs: Int, firstStep: Int, totalSteps: Int, elapsed: Double,
                        since lastStep: inout ContinuousClock.Instant, clock: ContinuousClock, logger: Logger) {
        let done = (e.epoch - 1) * e.stepsPerEpoch + e.step
        let data = JobEventData(epoch: e.epoch, epochs: epochs, step: done, steps: totalSteps, loss: Double(e.loss),
                                classificationLoss: Double(e.classificationLoss), embeddingLoss: Double(e.embeddingLoss),
                                learningRate: Double(e.learningRate), validationMap: e.validationMAP, elapsedSeconds: elapsed,
                                gradientRatio: e.gradientRatio.map(Double.init), priorLoss: e.priorLoss.map(Double.init))
        if let ratio = e.gradientRatio { metrics.gradientRatio.record(Double(ratio)) }
        metrics.classificationLoss.record(Double(e.classificationLoss))
        metrics.embeddingLoss.record(Double(e.embeddingLoss))
        let event: NewJobEvent
        switch e.kind {
        case .step:
            let now = clock.now
            metrics.stepDuration.recordNanoseconds(Int64((now - lastStep).seconds * 1e9))
            lastStep = now
            event = .metrics(String(format: "epoch %d/%d step %d/%d: loss %.4f", e.epoch, epochs, e.step, e.stepsPerEpoch, e.loss), data)
        case .epoch:
            let map = e.validationMAP.map { String(format: ", validation mAP %.2f", $0) } ?? ""
            event = .metrics(String(format: "epoch %d/%d done: loss %.4f", e.epoch, epochs, e.loss) + map, data)
        }
        let stepsThisRun = done - firstStep
        let eta = stepsThisRun > 0 ? elapsed / Double(stepsThisRun) * Double(totalSteps - done) : nil
        do {
            try database.updateJob(jobID, events: [event]) { job in
                job.epoch = e.kind == .epoch ? e.epoch : e.epoch - 1
                job.step = done
                job.etaSeconds = eta
            }
        } catch {
            logger.error("cannot record progress", metadata: ["error": "\(error)"])
        }
    }

    /// One event per setting a search scored: what changed, its score and group mAPs, its best epoch.
    private func recordCandidate(_ index: Int, _ c: SearchCandidate, jobID: String, logger: Logger) {
        func cell(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "-" }
        let ratio = c.gradientRatio.map { String(format: ", ‖∇L_cse‖/‖∇L_cls‖ %.3g", $0) } ?? ""
        let text = String(format: "setting %d (%@): score %.2f (mAP %.2f, head %@, medium %@, tail %@) at epoch %d of %d, %.1f s%@",
                          index + 1, c.change, c.score.value, c.score.map, cell(c.score.headMap), cell(c.score.mediumMap),
                          cell(c.score.tailMap), c.bestEpoch, c.epochsRun, c.seconds, ratio)
        let data = JobEventData(epoch: c.bestEpoch, epochs: c.epochsRun, validationMap: c.score.map, elapsedSeconds: c.seconds,
                                gradientRatio: c.gradientRatio.map(Double.init), candidate: index, selectionScore: c.score.value,
                                headMap: c.score.headMap, mediumMap: c.score.mediumMap, tailMap: c.score.tailMap)
        do { try database.appendEvent(.metrics(text, data), jobID: jobID) } catch {
            logger.error("cannot record a search candidate", metadata: ["error": "\(error)"])
        }
    }

    private func loadDataset(_ datasetID: String, param: String) throws -> Dataset {
        // Checked whole at upload; existence and sizes are checked again, decoding happens while encoding.
        let options = DatasetLoadOptions(decodesImages: false, decodeLimits: decodeLimits)
        do {
            return try DatasetLoader.load(from: layout.dataset(datasetID), options: options)
        } catch {
            throw JobFailure("invalid_dataset", "dataset \(datasetID) cannot be used: \(error)", param: param)
        }
    }

    private func finish(_ id: String, stop: JobStop, logger: Logger) {
        do {
            switch stop {
            case .cancelled:
                try database.updateJob(id, events: [.message("cancelled")]) { job in
                    job.status = .cancelled
                    job.finishedAt = unixNow()
                    job.etaSeconds = nil
                }
                try? FileManager.default.removeItem(at: layout.job(id))
                logger.info("job cancelled")
            case .shutdown:
                try database.updateJob(id, events: [.message(
                    "stopped by a server shutdown; it resumes from its last checkpoint when the server starts again")]) { job in
                    job.status = .queued
                    job.etaSeconds = nil
                }
                logger.info("job stopped for shutdown")
            }
        } catch {
            logger.error("cannot record the job's end", metadata: ["error": "\(error)"])
        }
    }

    /// A write found the disk full: the server's state, not the job's data.
    static let outOfSpace = JobFailure(
        "insufficient_storage", "the server ran out of disk space while writing the job's features, checkpoint or prompt set; create the job again once space is freed")

    /// Records the failure. A failed job never resumes, so its checkpoint folder goes first (on a
    /// full disk that frees room for the database); when the row and its event cannot be written
    /// together (SQLite needs more pages for the event), the row alone is: the job must not stay
    /// `running`, holding its dataset, until the next start.
    private func fail(_ id: String, _ failure: JobFailure, logger: Logger) {
        logger.error("job failed", metadata: ["code": .string(failure.code), "message": .string(failure.message)])
        try? FileManager.default.removeItem(at: layout.job(id))
        func markFailed(_ job: inout JobRecord) { job.markFailed(failure) }
        do {
            try database.updateJob(id, events: [.message("failed: \(failure.message)", level: .error)], markFailed)
        } catch {
            logger.warning("cannot record the job's failure with its event; recording the status alone", metadata: ["error": "\(error)"])
            do { try database.updateJob(id, markFailed) } catch {
                logger.error("cannot record the job's failure", metadata: ["error": "\(error)"])
            }
        }
    }
}
