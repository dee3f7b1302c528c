import CLIP
import Foundation
import Imaging
import Logging
import Tuning

/// Runs one claimed job to its end: loads the encoder and the datasets, prepares the features
/// (through the shared feature cache), trains with a checkpoint in the store after every epoch
/// (resuming from one when it exists, whoever wrote it), writes the prompt set atomically and
/// records it, writing progress and events as it goes, every write fenced by the job's lease.
/// Training runs on a Dispatch thread, off the event loops.
final class JobRunner: Sendable {
    let layout: DataLayout
    let datasets: DatasetCache
    let loadEncoder: @Sendable (String) async throws -> CLIPModel
    let cancellations: CancellationRequests
    let metrics: JobMetrics
    let decodeLimits: DecodeLimits
    let files: JobWrites
    let logger: Logger
    private let shuttingDown = CancellationFlag()

    init(layout: DataLayout, datasets: DatasetCache, loadEncoder: @escaping @Sendable (String) async throws -> CLIPModel,
         cancellations: CancellationRequests, metrics: JobMetrics, decodeLimits: DecodeLimits, files: JobWrites = .store,
         logger: Logger) {
        self.layout = layout
        self.datasets = datasets
        self.loadEncoder = loadEncoder
        self.cancellations = cancellations
        self.metrics = metrics
        self.decodeLimits = decodeLimits
        self.files = files
        self.logger = logger
    }

    /// Running jobs stop at their next step and are handed back, to resume from their last checkpoint.
    func beginShutdown() { shuttingDown.set() }

    /// The prompt set a job writes: `ps-[suffix-]<the job id's random part>`.
    static func promptSetID(jobID: String, suffix: String?) -> String {
        "ps-" + (suffix.map { $0 + "-" } ?? "") + jobID.dropFirst("ftjob-".count)
    }

    func run(_ owner: JobOwnership) async {
        let job = owner.claim.job
        var logger = logger
        logger[metadataKey: "job"] = .string(job.id)
        logger.info("job started", metadata: ["model": .string(job.model), "dataset": .string(job.datasetID)])
        do {
            try checkStop(owner)
            let model: CLIPModel
            do { model = try await loadEncoder(job.model) } catch let stop as JobStop { throw stop } catch {
                throw JobFailure("model_load_failed", "the encoder '\(job.model)' cannot be loaded: \(error)", param: "model")
            }
            let logger = logger
            try await OffloadedWork.run(qos: .utility) { try self.train(owner, model: model, logger: logger) }
            logger.info("job succeeded")
        } catch let stop as JobStop {
            await finish(owner, stop: stop, logger: logger)
        } catch is LeaseLost {
            logger.warning("job abandoned: another replica holds it now")
        } catch _ where owner.isLost {
            logger.warning("job abandoned: another replica holds it now")
        } catch let failure as JobFailure {
            await fail(owner, failure, logger: logger)
        } catch where OutOfSpace.matches(error) {
            await fail(owner, Self.outOfSpace, logger: logger)
        } catch {
            await fail(owner, JobFailure("internal_error", "the job stopped on an unexpected error: \(error)"), logger: logger)
        }
        cancellations.clear(job.id)
    }

    private func checkStop(_ owner: JobOwnership) throws {
        if owner.isLost { throw LeaseLost(lease: owner.lease) }
        if cancellations.isRequested(owner.jobID) { throw JobStop.cancelled }
        if shuttingDown.isSet { throw JobStop.shutdown }
    }

    private func stopReason(_ owner: JobOwnership) -> any Error {
        owner.isLost ? LeaseLost(lease: owner.lease) : cancellations.isRequested(owner.jobID) ? JobStop.cancelled : JobStop.shutdown
    }

    private func isStopping(_ owner: JobOwnership) -> Bool {
        cancellations.isRequested(owner.jobID) || shuttingDown.isSet || owner.isLost
    }

    /// The blocking part: datasets, features, training, artifact.
    private func train(_ owner: JobOwnership, model: CLIPModel, logger: Logger) throws {
        let job = owner.claim.job
        let id = job.id
        let h = try JSONDecoder().decode(TuningHyperparameters.self, from: Data(job.hyperparameters.utf8))
        let training = try loadDataset(job.datasetID, param: "dataset", owner: owner)
        let validation = try job.validationDatasetID.map { try loadDataset($0, param: "validation_dataset", owner: owner) }
        try checkStop(owner)

        try owner.update(events: [.message("running: encoding images and captions")]) { $0.status = .running }
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
                switch event {
                case .stage(let name, _, let total) where stagesSeen.insert(name).inserted:
                    try? owner.appendEvent(.message("\(name) (\(total))"))
                case .encoded(let stage, let encoded, let total) where total > 0:
                    // Says whether the feature cache worked (a job taken over by another replica should encode nothing).
                    try? owner.appendEvent(.message("\(stage): \(encoded) encoded, \(total - encoded) from the feature cache"))
                default:
                    break
                }
            }, isCancelled: { self.isStopping(owner) })
        } catch TuningError.cancelled {
            throw stopReason(owner)
        } catch let error as DatasetValidationError {
            throw JobFailure("invalid_dataset", error.description, param: validation == nil ? "dataset" : "validation_dataset")
        } catch let error as TuningError {
            throw JobFailure("invalid_training_data", error.description, param: "dataset")
        } catch where OutOfSpace.matches(error) {
            throw Self.outOfSpace   // the feature cache found the disk full
        } catch {
            throw JobFailure("feature_extraction_failed", "the images cannot be encoded: \(error)", param: "dataset")
        }
        try checkStop(owner)

        let stepsPerEpoch = (prepared.data.trainCount + h.batchSize - 1) / h.batchSize
        let totalSteps = h.epochs * stepsPerEpoch
        var resume: TrainingState?
        do {
            resume = try owner.writeBlocking { store, lease in try await store.checkpoint(jobID: lease.jobID) }
                .flatMap { try JobCheckpoint.decode($0.state, jobID: id)?.state }
        } catch let lost as LeaseLost { throw lost } catch {
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
        let epochsDone = resume?.epochsDone ?? 0
        let firstStep = epochsDone * stepsPerEpoch
        try owner.update(events: events) { job in
            job.epochs = h.epochs
            job.steps = totalSteps
            job.epoch = epochsDone
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
                        self.record(e, owner: owner, epochs: finalEpochs, firstStep: firstStep, totalSteps: finalEpochs * stepsPerEpoch,
                                    elapsed: (clock.now - began).seconds, since: &lastStep, clock: clock, logger: logger)
                    case .candidate(let index, let candidate):
                        self.recordCandidate(index, candidate, owner: owner, logger: logger)
                    case .selected(let epochs, let selection):
                        finalEpochs = epochs
                        try? owner.update(events: [.message("selected: \(selection.reason); training on all images")]) { job in
                            job.epochs = epochs
                            job.steps = epochs * stepsPerEpoch
                        }
                    case .stage, .encoded, .selection:
                        break
                    }
                },
                checkpoint: { state in
                    try self.files.checkpoint(JobCheckpoint(jobID: id, state: state), owner,
                                              .message("checkpoint saved after epoch \(state.epochsDone)/\(h.epochs)"))
                    lastStep = clock.now
                },
                isCancelled: { self.isStopping(owner) })
        } catch TuningError.cancelled {
            throw stopReason(owner)
        } catch let lost as LeaseLost {
            throw lost
        } catch let error as TuningError {
            throw JobFailure("training_failed", error.description)
        } catch where OutOfSpace.matches(error) {
            throw Self.outOfSpace   // a checkpoint, or its event, found the disk full
        }

        // One machine: the artifact first (atomic folder rename), then the job's success; a crash in
        // between resumes the job from its last checkpoint and writes it again. Replicas: the prompt
        // set is staged, stored with the success in one transaction (a fenced-out owner publishes
        // nothing), then moved into place here; the other replicas materialise it from the store.
        let artifact = layout.promptSet(promptSetID)
        let published = owner.store.keepsPromptSets
        let written = published
            ? layout.promptSetsDirectory.appendingPathComponent(".job-\(id)-\(owner.lease.attempt)", isDirectory: true) : artifact
        defer { if published { try? FileManager.default.removeItem(at: written) } }
        let stored: PromptSetFiles?
        do {
            try files.promptSet(promptSet, written)
            stored = published ? try PromptSetFiles(folder: written) : nil
        } catch where OutOfSpace.matches(error) {
            throw Self.outOfSpace
        } catch {
            throw JobFailure("artifact_write_failed", "the prompt set cannot be written to \(written.path): \(error)")
        }
        let summary = promptSet.manifest.metrics.map(JobMetricsSummary.init)
        let metricsJSON = try summary.map { String(decoding: try JSONEncoder.sortedKeys.encode($0), as: UTF8.self) }
        let mapText = summary.map { String(format: "; validation mAP %.2f", $0.validationMap) } ?? ""
        try owner.writeBlocking { store, lease in
            try await store.completeJob(lease, promptSetID: promptSetID, files: stored,
                                        event: .message("succeeded: prompt set \(promptSetID) written\(mapText)")) { job in
                // Progress stays where the last epoch left it (before `epochs` when early stopping ended the run).
                job.finishedAt = unixNow()
                job.metrics = metricsJSON
                job.etaSeconds = 0
            }
        }
        if let stored {
            do { try stored.materialise(as: artifact) } catch {
                logger.warning("the prompt set is stored but not yet in this replica's folder; the sync writes it",
                               metadata: ["error": "\(error)"])
            }
        }
    }

    /// Progress, a metrics event and the step-time histogram for one trainer event.
    private func record(_ e: TrainingEvent, owner: JobOwnership, epochs: Int, firstStep: Int, totalSteps: Int, elapsed: Double,
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
            try owner.update(events: [event]) { job in
                job.epoch = e.kind == .epoch ? e.epoch : e.epoch - 1
                job.step = done
                job.etaSeconds = eta
            }
        } catch {
            logger.error("cannot record progress", metadata: ["error": "\(error)"])
        }
    }

    /// One event per setting a search scored: what changed, its score and group mAPs, its best epoch.
    private func recordCandidate(_ index: Int, _ c: SearchCandidate, owner: JobOwnership, logger: Logger) {
        func cell(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "-" }
        let ratio = c.gradientRatio.map { String(format: ", ‖∇L_cse‖/‖∇L_cls‖ %.3g", $0) } ?? ""
        let text = String(format: "setting %d (%@): score %.2f (mAP %.2f, head %@, medium %@, tail %@) at epoch %d of %d, %.1f s%@",
                          index + 1, c.change, c.score.value, c.score.map, cell(c.score.headMap), cell(c.score.mediumMap),
                          cell(c.score.tailMap), c.bestEpoch, c.epochsRun, c.seconds, ratio)
        let data = JobEventData(epoch: c.bestEpoch, epochs: c.epochsRun, validationMap: c.score.map, elapsedSeconds: c.seconds,
                                gradientRatio: c.gradientRatio.map(Double.init), candidate: index, selectionScore: c.score.value,
                                headMap: c.score.headMap, mediumMap: c.score.mediumMap, tailMap: c.score.tailMap)
        do { try owner.appendEvent(.metrics(text, data)) } catch {
            logger.error("cannot record a search candidate", metadata: ["error": "\(error)"])
        }
    }

    /// The dataset's files on this replica (unpacked from its blob on first use).
    private func loadDataset(_ datasetID: String, param: String, owner: JobOwnership) throws -> Dataset {
        // Checked whole at upload; existence and sizes are checked again, decoding happens while encoding.
        let options = DatasetLoadOptions(decodesImages: false, decodeLimits: decodeLimits)
        guard let record = try owner.writeBlocking({ store, _ in try await store.dataset(datasetID) }) else {
            throw JobFailure("invalid_dataset", "dataset \(datasetID) was deleted", param: param)
        }
        do {
            return try DatasetLoader.load(from: try datasets.folder(for: record), options: options)
        } catch where OutOfSpace.matches(error) {
            throw Self.outOfSpace   // unpacking the blob found the disk full
        } catch {
            throw JobFailure("invalid_dataset", "dataset \(datasetID) cannot be used: \(error)", param: param)
        }
    }

    private func finish(_ owner: JobOwnership, stop: JobStop, logger: Logger) async {
        do {
            switch stop {
            case .cancelled:
                try await owner.write { store, lease in
                    try await store.finishJob(lease, events: [.message("cancelled")]) { job in
                        job.status = .cancelled
                        job.finishedAt = unixNow()
                        job.etaSeconds = nil
                    }
                }
                logger.info("job cancelled")
            case .shutdown:
                try await owner.write { store, lease in
                    try await store.releaseJob(lease, event: .message(
                        "handed back at a server shutdown; it resumes from its last checkpoint when a server claims it again"))
                }
                logger.info("job handed back for shutdown")
            }
        } catch {
            logger.error("cannot record the job's end", metadata: ["error": "\(error)"])
        }
    }

    /// A write found the disk full: the server's state, not the job's data.
    static let outOfSpace = JobFailure(
        "insufficient_storage", "the server ran out of disk space while writing the job's features, checkpoint or prompt set; create the job again once space is freed")

    /// Records the failure (a failed job never resumes: its checkpoint goes with it). When the row
    /// and its event cannot be written together (SQLite on a full disk needs more pages for the
    /// event), the row alone is: the job must not stay `running`, holding its dataset.
    private func fail(_ owner: JobOwnership, _ failure: JobFailure, logger: Logger) async {
        logger.error("job failed", metadata: ["code": .string(failure.code), "message": .string(failure.message)])
        do {
            try await owner.write { store, lease in
                try await store.finishJob(lease, events: [.message("failed: \(failure.message)", level: .error)]) { $0.markFailed(failure) }
            }
        } catch is LeaseLost {
            logger.warning("job abandoned: another replica holds it now")
        } catch {
            logger.warning("cannot record the job's failure with its event; recording the status alone", metadata: ["error": "\(error)"])
            do {
                try await owner.write { store, lease in try await store.finishJob(lease, events: []) { $0.markFailed(failure) } }
            } catch {
                logger.error("cannot record the job's failure", metadata: ["error": "\(error)"])
            }
        }
    }
}
