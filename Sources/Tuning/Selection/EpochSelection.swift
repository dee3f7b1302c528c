import CLIP

/// Where a setting's epochs are scored.
public enum SelectionData: Sendable, Equatable {
    /// Stratified k-fold on the training images: k trainers on k − 1 folds each, their held-out
    /// scores pooled, so every training image (every tail positive) is scored once.
    case folds(Int)
    /// The given validation images, scored by one trainer on all training images.
    case validation
}

/// What scoring one setting found: the score of every epoch (epoch 0 is the starting prompt),
/// the epoch to ship, and the learning rates the shared schedule used, so the final run on all
/// training images can replay them.
public struct SelectionOutcome: Sendable {
    public let hyperparameters: TuningHyperparameters
    /// scores[e]: after e epochs (scores[0]: the starting prompt, before any step).
    public let scores: [SelectionScore]
    public let bestEpoch: Int
    public let learningRates: [Float]
    /// Held-out logits [M, C] at the best epoch, with the class features blended with the
    /// hand-written prompt's for each weight of `hyperparameters.zeroShotWeights` (`ZeroShotBlend`;
    /// weight 0: the tuned prompt's, which `scores` ranked), and their labels: what the served
    /// scoring is chosen and thresholds are calibrated on.
    public let heldOutBlends: [(zeroShotWeight: Float, logits: [Float])]
    public let heldOutLabels: [Float]
    /// Mean ‖∇L_cse‖ / ‖∇L_cls‖ over the first epoch's steps (nil without L_cse).
    public let initialGradientRatio: Float?
    public let seconds: Double

    public var best: SelectionScore { scores[bestEpoch] }
}

/// Trains one setting's fold trainers in lockstep, epoch by epoch, with one learning-rate schedule
/// (ReduceLROnPlateau reads the pooled score) and scores every epoch, epoch 0 included: a setting
/// whose training never beats its starting prompt ships the starting prompt.
public struct EpochSelection {
    public let model: CLIPModel
    public let data: TrainingData
    public let hyperparameters: TuningHyperparameters
    public let selection: SelectionData
    public let priorFeatures: [Float]?
    public let groups: [ClassGroup]

    public init(model: CLIPModel, data: TrainingData, hyperparameters: TuningHyperparameters, selection: SelectionData,
                priorFeatures: [Float]?) {
        self.model = model
        self.data = data
        self.hyperparameters = hyperparameters
        self.selection = selection
        self.priorFeatures = priorFeatures
        groups = ClassGroupBounds.default.groups(of: data.classCounts)
    }

    /// Runs up to `hyperparameters.epochs` epochs (fewer with early stopping, after `epochLimit`
    /// epochs, or when `deadline` passes after at least `minimumEpochs`: the epochs scored so far
    /// then count). `epochDone(epoch, score, lr)` after each.
    public func run(deadline: ContinuousClock.Instant? = nil, minimumEpochs: Int = 0, epochLimit: Int? = nil,
                    epochDone: (Int, SelectionScore, Float) -> Void = { _, _, _ in },
                    isCancelled: () -> Bool = { false }) throws -> SelectionOutcome {
        let h = hyperparameters, c = data.classNames.count
        let clock = ContinuousClock(), began = clock.now
        // (trainer, held-out rows of the pooled matrix, features of those rows)
        var parts: [(trainer: PromptTrainer, rows: [Int], features: [Float])] = []
        let heldOutLabels: [Float]
        switch selection {
        case .folds(let k):
            let folds = try StratifiedFolds(labels: data.trainLabels, classes: c, folds: k, seed: h.seed)
            for f in 0..<k {
                let (train, heldOut) = folds.split(f)
                parts.append((try PromptTrainer(model: model, data: try data.subset(train), hyperparameters: h, priorFeatures: priorFeatures),
                              heldOut, data.trainFeatureRows(heldOut)))
            }
            heldOutLabels = data.trainLabels
        case .validation:
            guard data.validationCount > 0 else { throw TuningError.invalidArgument("no validation images to select on") }
            parts = [(try PromptTrainer(model: model, data: data, hyperparameters: h, priorFeatures: priorFeatures),
                      Array(0..<data.validationCount), data.validationFeatures)]
            heldOutLabels = data.validationLabels
        }
        let rows = heldOutLabels.count / c
        let weights = h.zeroShotWeights
        if weights != [0] && priorFeatures == nil {
            throw TuningError.invalidArgument("zero_shot_weight needs the hand-written prompts' features")
        }
        var states = parts.map { $0.trainer.initialState() }
        // Each part's class features [C, D] and their logits on its held-out rows, pooled into [M, C].
        func pooledLogits(_ features: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * c)
            for (p, t) in zip(parts, features) {
                let z = p.trainer.logits(imageFeatures: p.features, classFeatures: t)
                for (j, r) in p.rows.enumerated() { for k in 0..<c { out[r * c + k] = z[j * c + k] } }
            }
            return out
        }
        func currentFeatures() -> [[Float]] { zip(parts, states).map { $0.trainer.classFeatures(context: $1.context) } }
        var schedule = LearningRateSchedule(kind: h.schedule, base: h.learningRate, epochs: h.epochs)
        schedule.patience = h.patience
        var features = currentFeatures()
        var logits = pooledLogits(features)
        var scores = [try SelectionScore(scores: logits, labels: heldOutLabels, classes: c, groups: groups)]
        var best = 0, bestLogits = logits, bestFeatures = features, rates: [Float] = [], sinceBest = 0
        var firstRatio: Float? = nil
        for epoch in 0..<h.epochs {
            if let deadline, epoch >= minimumEpochs, clock.now > deadline { break }
            if let epochLimit, epoch >= epochLimit { break }
            let lr = schedule.rate(epoch: epoch)
            var ratios: [Float] = []
            for i in parts.indices {
                let event = try parts[i].trainer.trainEpoch(epoch, state: &states[i], lr: lr, began: began, isCancelled: isCancelled)
                if let r = event.gradientRatio { ratios.append(r) }
            }
            if epoch == 0 && !ratios.isEmpty { firstRatio = ratios.reduce(0, +) / Float(ratios.count) }
            rates.append(lr)
            features = currentFeatures()
            logits = pooledLogits(features)
            let score = try SelectionScore(scores: logits, labels: heldOutLabels, classes: c, groups: groups)
            scores.append(score)
            schedule.record(metric: Float(score.value))
            if score.value > scores[best].value {
                best = epoch + 1; bestLogits = logits; bestFeatures = features; sinceBest = 0
            } else {
                sinceBest += 1
            }
            epochDone(epoch + 1, score, lr)
            if h.earlyStopPatience > 0 && sinceBest >= h.earlyStopPatience { break }
        }
        let d = data.dimension
        let blends = weights.map { w in
            (zeroShotWeight: w, logits: w == 0 ? bestLogits : pooledLogits(bestFeatures.map {
                ZeroShotBlend.features(tuned: $0, zeroShot: priorFeatures!, weight: w, dimension: d)
            }))
        }
        return SelectionOutcome(hyperparameters: h, scores: scores, bestEpoch: best, learningRates: rates,
                                heldOutBlends: blends, heldOutLabels: heldOutLabels,
                                initialGradientRatio: firstRatio,
                                seconds: (clock.now - began).inSeconds)
    }
}
