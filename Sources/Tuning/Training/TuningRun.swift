import CLIP
import Foundation
import Imaging

/// What a tuning run reports while it works: the stage it is in, each scored epoch of the
/// selection, each candidate of a search, and the final training's events.
public enum TuningRunEvent: Sendable {
    case stage(name: String, done: Int, total: Int)
    /// A stage's images are all there: `encoded` of `total` were encoded now, the rest came from the feature cache.
    case encoded(stage: String, encoded: Int, total: Int)
    /// Epoch `epoch` of candidate `candidate` (0-based) scored `score` at learning rate `lr`.
    case selection(candidate: Int, epoch: Int, epochs: Int, score: SelectionScore, lr: Float)
    case candidate(index: Int, SearchCandidate)
    /// The selection is done: the final training runs `epochs` epochs on all training images.
    case selected(epochs: Int, SelectionRecord)
    case training(TrainingEvent)
}

/// One whole tuning job, the same for `tagtune tune` and the server's job worker: encode images
/// once (through the feature cache) and captions once; score the setting (or, for `auto`, search
/// settings) epoch by epoch on k folds of the training set or on the given validation set; train
/// the chosen setting on every training image for the chosen number of epochs (replaying the
/// learning rates the selection used); calibrate thresholds on the held-out scores; evaluate.
public struct TuningRun {
    public var model: CLIPModel
    public var training: Dataset
    public var validation: ValidationSplit
    public var hyperparameters: TuningHyperparameters
    /// Shared root of the on-disk feature cache (nil: no cache).
    public var featureCacheRoot: URL?
    public var decodeLimits: DecodeLimits = .default
    /// Encoder name recorded in the prompt set.
    public var encoderName: String
    public var promptSetID: String

    public init(model: CLIPModel, training: Dataset, validation: ValidationSplit, hyperparameters: TuningHyperparameters,
                featureCacheRoot: URL?, encoderName: String, promptSetID: String) {
        self.model = model
        self.training = training
        self.validation = validation
        self.hyperparameters = hyperparameters
        self.featureCacheRoot = featureCacheRoot
        self.encoderName = encoderName
        self.promptSetID = promptSetID
    }

    /// Encodes everything the trainer needs (the slow part before the first step). `isCancelled` is
    /// asked after every batch of images or captions: encoding a large dataset takes minutes, and a
    /// cancelled job stops there with `TuningError.cancelled`.
    public func prepare(
        events: (TuningRunEvent) -> Void = { _ in }, isCancelled: () -> Bool = { false }
    ) throws -> (data: TrainingData, training: Dataset, validation: Dataset) {
        try hyperparameters.validate()
        let (train, validation) = try DatasetSplitter.split(training, using: self.validation)
        guard train.items.count >= 2 else { throw TuningError.invalidArgument("training needs at least 2 images; \(train.items.count) given") }
        let cache = try featureCacheRoot.map {
            try FeatureCache(root: $0, model: model)
        }
        let extractor = ImageFeatureExtractor(model: model, cache: cache)
        let limits = decodeLimits
        func features(of dataset: Dataset, stage: String) throws -> [Float] {
            let result = try extractor.features(
                count: dataset.items.count,
                loadBytes: { try dataset.imageBytes(at: $0) },
                decode: { try ImageDecoder.decode($0, options: DecodeOptions(limits: limits)) },
                progress: { done, total in
                    events(.stage(name: stage, done: done, total: total))
                    if isCancelled() { throw TuningError.cancelled }
                })
            events(.encoded(stage: stage, encoded: result.encoded, total: dataset.items.count))
            return result.features
        }
        let trainFeatures = try features(of: train, stage: "encoding training images")
        let validationFeatures = try features(of: validation, stage: "encoding validation images")

        // Captions: the dataset's own, or composed from the labels; encoded once per run.
        let captions = (0..<train.items.count).map { train.caption(at: $0) }
        var captionFeatures: [Float] = []
        captionFeatures.reserveCapacity(captions.count * model.configuration.projectionDim)
        for start in stride(from: 0, to: captions.count, by: 64) {
            captionFeatures += try model.encode(texts: Array(captions[start..<min(captions.count, start + 64)]))
            events(.stage(name: "encoding captions", done: min(captions.count, start + 64), total: captions.count))
            if isCancelled() { throw TuningError.cancelled }
        }
        func labels(_ dataset: Dataset) -> [Float] {
            var y = [Float](repeating: 0, count: dataset.items.count * dataset.classes.count)
            for (i, item) in dataset.items.enumerated() { for c in item.labels { y[i * dataset.classes.count + c] = 1 } }
            return y
        }
        var data = try TrainingData(
            classNames: train.classes, trainFeatures: trainFeatures, trainLabels: labels(train),
            captionFeatures: captionFeatures, validationFeatures: validationFeatures, validationLabels: labels(validation),
            dimension: model.configuration.projectionDim)
        if hyperparameters.embeddingLoss == .token {
            data.captionTokens = captions.map { model.tokenizer.tokenize($0, contextLength: model.configuration.contextLength) }
        }
        return (data, train, validation)
    }

    /// The hand-written prompts' features [C, D] ("a photo of a {class}."): KgCoOp's prior and
    /// the zero-shot baseline.
    public func handWrittenFeatures(classNames: [String]) throws -> [Float] {
        try ZeroShotClassifier(model: model, classNames: classNames).classFeatures
    }

    /// Scores the setting (or searches, for `auto`): what the final training replays.
    /// `prior`: the hand-written prompts' features when the caller has them already.
    public func select(_ data: TrainingData, prior given: [Float]? = nil, events: (TuningRunEvent) -> Void = { _ in },
                       isCancelled: () -> Bool = { false }) throws -> (outcome: SelectionOutcome, record: SelectionRecord) {
        let h = hyperparameters
        let selection = selectionData(for: data)
        let prior = try given ?? handWrittenFeatures(classNames: data.classNames)
        var candidateIndex = 0
        let epochDone: (Int, SelectionScore, Float) -> Void = { epoch, score, lr in
            events(.selection(candidate: candidateIndex, epoch: epoch, epochs: h.epochs, score: score, lr: lr))
        }
        let candidates: [SearchCandidate], outcome: SelectionOutcome, exhausted: Bool
        if h.method == .auto {
            let search = AutoSearch(base: h, fixed: Set(h.fixed))
            (candidates, outcome, exhausted) = try search.run(
                model: model, data: data, selection: selection, priorFeatures: prior,
                tried: { candidate, _ in events(.candidate(index: candidateIndex, candidate)); candidateIndex += 1 },
                epochDone: epochDone, isCancelled: isCancelled)
        } else {
            outcome = try EpochSelection(model: model, data: data, hyperparameters: h, selection: selection, priorFeatures: prior)
                .run(epochDone: epochDone, isCancelled: isCancelled)
            let only = SearchCandidate(change: "start", outcome: outcome)
            events(.candidate(index: 0, only))
            (candidates, exhausted) = ([only], false)
        }
        let chosen = candidates.firstIndex { $0.hyperparameters == outcome.hyperparameters } ?? 0
        var foldCount: Int? = nil
        if case .folds(let k) = selection { foldCount = k }
        let on = foldCount.map { "\($0)-fold out-of-fold scores of the training images" } ?? "the validation images"
        let best = outcome.best, start = outcome.scores[0]
        let reason = String(format: "highest mean of head, medium and tail mAP (%.2f; mAP %.2f) on %@, of %d setting(s) tried; "
                            + "best after %d epoch(s)%@", best.value, best.map, on, candidates.count, outcome.bestEpoch,
                            outcome.bestEpoch == 0 ? " — training never beat the starting prompt, which ships"
                                : String(format: " (starting prompt: %.2f)", start.value))
        return (outcome, SelectionRecord(data: selection == .validation ? "validation" : "folds", folds: foldCount,
                                         candidates: candidates, chosen: chosen, epochs: outcome.bestEpoch, reason: reason,
                                         budgetExhausted: exhausted))
    }

    /// What settings are scored on: the validation images when there are labelled ones, else folds.
    func selectionData(for data: TrainingData) -> SelectionData {
        data.validationCount > 0 && data.validationLabels.contains(1) ? .validation : .folds(hyperparameters.folds)
    }

    /// The outcome of a selection kept in a checkpoint, scored again for the chosen setting alone
    /// and for exactly the epochs it ran then (deterministic): the held-out logits thresholds are
    /// calibrated on, without searching again.
    func replay(_ record: SelectionRecord, data: TrainingData, prior: [Float], events: (TuningRunEvent) -> Void,
                isCancelled: () -> Bool) throws -> SelectionOutcome {
        guard record.candidates.indices.contains(record.chosen) else {
            throw TuningError.invalidArgument("the checkpoint's selection names no candidate \(record.chosen)")
        }
        let chosen = record.candidates[record.chosen]
        let outcome = try EpochSelection(model: model, data: data, hyperparameters: chosen.hyperparameters,
                                         selection: selectionData(for: data), priorFeatures: prior)
            .run(epochLimit: chosen.epochsRun, epochDone: { epoch, score, lr in
                events(.selection(candidate: record.chosen, epoch: epoch, epochs: chosen.hyperparameters.epochs, score: score, lr: lr))
            }, isCancelled: isCancelled)
        guard outcome.bestEpoch == record.epochs else {
            throw TuningError.invalidArgument("scoring the checkpoint's chosen setting again gave epoch \(outcome.bestEpoch), "
                                              + "not \(record.epochs): the data or the encoder changed since")
        }
        return outcome
    }

    /// Selects, trains on all training images, calibrates, evaluates, and returns the prompt set
    /// (not yet written). `resume` continues the final training from a checkpoint, keeping the
    /// selection recorded in it (only its chosen setting is scored again, for the held-out
    /// logits); `checkpoint` is called after each final epoch with the selection in the state.
    public func train(
        _ data: TrainingData, resume: TrainingState? = nil,
        events: (TuningRunEvent) -> Void = { _ in },
        checkpoint: (TrainingState) throws -> Void = { _ in },
        isCancelled: () -> Bool = { false }
    ) throws -> PromptSet {
        let prior = try handWrittenFeatures(classNames: data.classNames)
        let outcome: SelectionOutcome, record: SelectionRecord
        if let kept = resume?.selection {
            (outcome, record) = (try replay(kept, data: data, prior: prior, events: events, isCancelled: isCancelled), kept)
        } else {
            (outcome, record) = try select(data, prior: prior, events: events, isCancelled: isCancelled)
        }
        events(.selected(epochs: outcome.bestEpoch, record))
        let chosen = outcome.hyperparameters
        let trainer = try PromptTrainer(model: model, data: data, hyperparameters: chosen, priorFeatures: prior)
        // The events carry the selection's held-out mAP of the epoch they finish.
        let result = try trainer.run(
            learningRates: Array(outcome.learningRates.prefix(outcome.bestEpoch)), from: resume,
            report: { event in
                var scored = event
                if event.kind == .epoch { scored.validationMAP = outcome.scores[event.epoch].map }
                events(.training(scored))
            },
            checkpoint: { state in
                var kept = state
                kept.selection = record
                try checkpoint(kept)
            }, isCancelled: isCancelled)
        let context = result.context, classFeatures = result.classFeatures

        // Thresholds in logit space from the held-out scores the selection chose on, calibrated on
        // exactly what is served: the held-out logits of the zero-shot blend and the per-image
        // normalisation that rank best on them together (neither unless it ranks better).
        let c = data.classNames.count, d = data.dimension
        let labels = outcome.heldOutLabels.map { $0 > 0.5 }
        let groups = ClassGroupBounds.default.groups(of: data.classCounts)
        let choice = try ServedScoring.best(heldOut: outcome.heldOutBlends, labels: outcome.heldOutLabels, classes: c, groups: groups)
        let normalization = choice.normalization
        var served = choice.logits
        normalization.apply(to: &served, classes: c)
        let servedFeatures = ZeroShotBlend.features(tuned: classFeatures, zeroShot: prior, weight: choice.zeroShotWeight, dimension: d)
        let scored = try LabeledScores(imageCount: labels.count / c, classCount: c, scores: served, labels: labels)
        let calibration = try ThresholdCalibration(validation: scored)
        let hasPositives = labels.contains(true)
        let report = hasPositives
            ? try EvaluationReport(test: scored, classNames: data.classNames, trainingCounts: data.classCounts,
                                   thresholds: calibration.thresholds, softmaxLogits: choice.logits)
            : nil
        let stored = context.storable()
        var manifest = PromptSetManifest(
            id: promptSetID, method: hyperparameters.method.rawValue,
            encoder: .init(name: encoderName, weightsSHA256: try model.weightsDigest(), layout: model.configuration.layout.rawValue,
                           projectionDim: model.configuration.projectionDim, textWidth: model.configuration.text.width),
            classes: data.classNames, contextLength: stored.length, classSpecific: stored.classSpecific,
            classPosition: chosen.classPosition.rawValue,
            thresholds: [Float](repeating: 0.5, count: c),
            scoring: .init(logitOffsets: calibration.thresholds, calibrated: calibration.perClass.map { !$0.isFallback },
                           normalization: normalization == .none ? nil : normalization,
                           zeroShotWeight: choice.zeroShotWeight == 0 ? nil : choice.zeroShotWeight),
            classCounts: data.classCounts, groups: groups.map(\.rawValue), hyperparameters: chosen, seed: chosen.seed,
            metrics: report, createdAt: Date())
        manifest.selection = record
        if hasPositives {
            // The baseline users compare against: the hand-written prompt on the same held-out images.
            let heldOutFeatures = record.data == "validation" ? data.validationFeatures : data.trainFeatures
            manifest.zeroShotMetrics = try EvaluationReport.zeroShot(
                model: model, classNames: data.classNames, imageFeatures: heldOutFeatures, labels: labels, trainingCounts: data.classCounts)
        }
        return try PromptSet(manifest: manifest, context: stored, classFeatures: servedFeatures)
    }
}
