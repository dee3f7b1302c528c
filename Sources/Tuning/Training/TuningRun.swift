import CLIP
import Foundation
import Imaging

/// What a tuning run reports while it works: the stage it is in, and the trainer's events.
public enum TuningRunEvent: Sendable {
    case stage(name: String, done: Int, total: Int)
    case training(TrainingEvent)
}

/// One whole tuning job, the same for `tagtune tune` and the server's job worker: split, encode
/// images once (through the feature cache) and captions once, train, calibrate thresholds on the
/// validation split, evaluate, and write the prompt set atomically.
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
            try extractor.features(
                count: dataset.items.count,
                loadBytes: { try dataset.imageBytes(at: $0) },
                decode: { try ImageDecoder.decode($0, options: DecodeOptions(limits: limits)) },
                progress: { done, total in
                    events(.stage(name: stage, done: done, total: total))
                    if isCancelled() { throw TuningError.cancelled }
                }).features
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

    /// Trains on prepared data, calibrates, evaluates, and returns the prompt set (not yet written).
    public func train(
        _ data: TrainingData, resume: TrainingState? = nil,
        events: (TuningRunEvent) -> Void = { _ in },
        checkpoint: (TrainingState) throws -> Void = { _ in },
        isCancelled: () -> Bool = { false }
    ) throws -> PromptSet {
        let trainer = try PromptTrainer(model: model, data: data, hyperparameters: hyperparameters)
        let result = try trainer.run(from: resume, report: { events(.training($0)) }, checkpoint: checkpoint, isCancelled: isCancelled)

        // Thresholds in logit space from the validation split (the training split when it has no positives).
        let c = data.classNames.count
        let useValidation = data.validationLabels.contains(1)
        let features = useValidation ? data.validationFeatures : data.trainFeatures
        let labels = (useValidation ? data.validationLabels : data.trainLabels).map { $0 > 0.5 }
        let logits = trainer.logits(imageFeatures: features, classFeatures: result.classFeatures)
        let scored = try LabeledScores(imageCount: labels.count / c, classCount: c, scores: logits, labels: labels)
        let calibration = try ThresholdCalibration(validation: scored)
        let report = useValidation
            ? try EvaluationReport(test: scored, classNames: data.classNames, trainingCounts: data.classCounts,
                                   thresholds: calibration.thresholds)
            : nil
        let groups = ClassGroupBounds.default.groups(of: data.classCounts)
        let h = hyperparameters
        var manifest = PromptSetManifest(
            id: promptSetID, method: h.method.rawValue,
            encoder: .init(name: encoderName, weightsSHA256: try model.weightsDigest(), layout: model.configuration.layout.rawValue,
                           projectionDim: model.configuration.projectionDim, textWidth: model.configuration.text.width),
            classes: data.classNames, contextLength: result.context.length, classSpecific: result.context.classSpecific,
            classPosition: h.classPosition.rawValue,
            thresholds: [Float](repeating: 0.5, count: c),
            scoring: .init(logitOffsets: calibration.thresholds, calibrated: calibration.perClass.map { !$0.isFallback }),
            classCounts: data.classCounts, groups: groups.map(\.rawValue), hyperparameters: h, seed: h.seed,
            metrics: report, createdAt: Date())
        if useValidation {
            // The baseline users compare against: the hand-written prompt on the same images.
            manifest.zeroShotMetrics = try EvaluationReport.zeroShot(
                model: model, classNames: data.classNames, imageFeatures: features, labels: labels, trainingCounts: data.classCounts)
        }
        return try PromptSet(manifest: manifest, context: result.context, classFeatures: result.classFeatures)
    }
}
