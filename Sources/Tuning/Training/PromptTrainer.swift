import CLIP
import Compute

/// One line of a run's log: progress after a step, or validation after an epoch.
public struct TrainingEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case step, epoch }
    public let kind: Kind
    public let epoch: Int          // 1-based
    public let step: Int           // 1-based within the epoch
    public let stepsPerEpoch: Int
    public let loss: Float         // step: the batch's loss; epoch: the epoch's mean
    public let classificationLoss: Float
    public let embeddingLoss: Float
    public let learningRate: Float
    public let validationMAP: Double?  // percent, epochs only
    public let elapsedSeconds: Double
}

/// Everything needed to continue a run after a restart (saved after every epoch).
public struct TrainingState: Sendable, Codable {
    public var epochsDone: Int
    public var context: [Float]
    public var optimizer: Optimizer
    public var schedule: LearningRateSchedule
    public var bestContext: [Float]
    public var bestValidationMAP: Double?
    public var epochsWithoutImprovement: Int
    public var history: [TrainingEvent]
}

/// The result of a run: the best context (by validation mAP) and its class features.
public struct TrainingResult: Sendable {
    public let context: PromptContext
    public let classFeatures: [Float]        // [C, D], projected, not normalised
    public let bestValidationMAP: Double?
    public let epochsRun: Int
    public let history: [TrainingEvent]
}

/// Prompt tuning on cached features: each step sends every class prompt through the text tower
/// once (cut at EOT), scores a batch of images against them, and back-propagates
/// L = λ·L_cls(s·cos(v, t)) + (1 − λ)·L_cse(u, t) to the context vectors alone.
public final class PromptTrainer {
    public let model: CLIPModel
    public let data: TrainingData
    public let hyperparameters: TuningHyperparameters
    public let learner: PromptLearner
    let classification: any MultiLabelLogitLoss
    let embedding: ClassSpecificEmbeddingLoss?
    let tokenEmbedding: ClassSpecificTokenEmbeddingLoss?

    public init(model: CLIPModel, data: TrainingData, hyperparameters h: TuningHyperparameters) throws {
        try h.validate()
        self.model = model
        self.data = data
        hyperparameters = h
        let width = model.configuration.text.width
        let context = try h.contextInit.map {
            try PromptContext.fromWords($0, model: model, classes: data.classNames.count, classSpecific: h.resolvedClassSpecific)
        } ?? PromptContext.random(classes: data.classNames.count, length: h.contextLength, width: width,
                                  classSpecific: h.resolvedClassSpecific, seed: h.seed)
        learner = try PromptLearner(model: model, classNames: data.classNames, context: context, position: h.classPosition)
        // Statistics need every class seen at least once; a class absent from training gets count 1.
        let counts = data.classCounts.map { max($0, 1) }
        switch h.classificationLoss {
        case .dbl:
            classification = try DistributionBalancedLoss(
                classCounts: counts.map { min($0, data.trainCount - 1) }, trainingImageCount: max(data.trainCount, 2),
                weightCentre: h.dblCentre, negativeScale: h.dblNegativeScale)
        case .bce: classification = BinaryCrossEntropyLoss()
        case .focal: classification = try FocalLoss()
        case .asl: classification = try AsymmetricLoss()
        }
        let usesEmbeddingLoss = h.resolvedLambda < 1
        embedding = usesEmbeddingLoss && h.embeddingLoss == .feature
            ? try ClassSpecificEmbeddingLoss(classCounts: counts, margin: h.cseMargin) : nil
        tokenEmbedding = usesEmbeddingLoss && h.embeddingLoss == .token
            ? try ClassSpecificTokenEmbeddingLoss(classCounts: counts, margin: h.cseMargin) : nil
        if tokenEmbedding != nil && data.captionTokens?.count != data.trainCount {
            throw TuningError.invalidArgument("the token-level embedding loss needs the captions' token ids")
        }
    }

    /// A fresh state for epoch 0.
    public func initialState() -> TrainingState {
        let h = hyperparameters
        let optimizer: Optimizer = h.optimizer == .sgd
            ? .sgd(momentum: h.momentum, weightDecay: h.weightDecay)
            : .adamW(weightDecay: h.weightDecay)
        var schedule = LearningRateSchedule(kind: h.schedule, base: h.learningRate, epochs: h.epochs)
        schedule.patience = h.patience
        return TrainingState(epochsDone: 0, context: learner.context.values, optimizer: optimizer, schedule: schedule,
                             bestContext: learner.context.values, bestValidationMAP: nil, epochsWithoutImprovement: 0, history: [])
    }

    /// Validation mAP (percent) of the current context, or nil without validation positives.
    public func validationMAP() throws -> Double? {
        guard data.validationCount > 0 else { return nil }
        let scores = logits(imageFeatures: data.validationFeatures, classFeatures: learner.classFeatures())
        let labeled = try LabeledScores(imageCount: data.validationCount, classCount: data.classNames.count,
                                        scores: scores, labels: data.validationLabels.map { $0 > 0.5 })
        return MeanAveragePrecision(labeled).map.map { $0 * 100 }
    }

    /// s · cos(image, class) for unit image rows [N, D] against raw class features [C, D].
    public func logits(imageFeatures: [Float], classFeatures: [Float]) -> [Float] {
        let d = data.dimension, c = data.classNames.count, n = imageFeatures.count / d
        let unit = L2Normalize.rows(classFeatures, width: d)
        var out = [Float](repeating: 0, count: n * c)
        imageFeatures.withUnsafeBufferPointer { v in unit.withUnsafeBufferPointer { t in out.withUnsafeMutableBufferPointer { z in
            gemm(transA: false, transB: true, m: n, n: c, k: d, alpha: model.logitScale,
                 a: v.baseAddress!, lda: d, b: t.baseAddress!, ldb: d, c: z.baseAddress!, ldc: c)
        } } }
        return out
    }

    /// One optimisation step on the images `batch`; returns (L, L_cls, L_cse).
    public func step(batch: [Int], state: inout TrainingState, lr: Float) throws -> (Float, Float, Float) {
        let d = data.dimension, c = data.classNames.count, b = batch.count
        let lambda = hyperparameters.resolvedLambda
        var images = [Float](repeating: 0, count: b * d), captions = images
        var labels = [Float](repeating: 0, count: b * c)
        for (row, i) in batch.enumerated() {
            images.replaceSubrange((row * d)..<((row + 1) * d), with: data.trainFeatures[(i * d)..<((i + 1) * d)])
            captions.replaceSubrange((row * d)..<((row + 1) * d), with: data.captionFeatures[(i * d)..<((i + 1) * d)])
            labels.replaceSubrange((row * c)..<((row + 1) * c), with: data.trainLabels[(i * c)..<((i + 1) * c)])
        }
        learner.context.values = state.context
        let (features, trace) = learner.forward()                        // t [C, D]
        var unit = [Float](repeating: 0, count: c * d), norms = [Float](repeating: 0, count: c)
        features.withUnsafeBufferPointer { t in unit.withUnsafeMutableBufferPointer { u in norms.withUnsafeMutableBufferPointer { n in
            L2Normalize.forward(out: u.baseAddress!, norms: n.baseAddress!, inp: t.baseAddress!, rows: c, width: d)
        } } }
        var logits = [Float](repeating: 0, count: b * c)                 // z = s · v t̂ᵀ [B, C]
        images.withUnsafeBufferPointer { v in unit.withUnsafeBufferPointer { t in logits.withUnsafeMutableBufferPointer { z in
            gemm(transA: false, transB: true, m: b, n: c, k: d, alpha: model.logitScale,
                 a: v.baseAddress!, lda: d, b: t.baseAddress!, ldb: d, c: z.baseAddress!, ldc: c)
        } } }
        let lossCls = try classification.forward(logits: logits, labels: labels)
        let dLogits = try classification.backward(logits: logits, labels: labels, outputGradient: lambda)
        // ∂L/∂t̂ = s · dzᵀ · v [C, D], then through the normalisation.
        var dUnit = [Float](repeating: 0, count: c * d)
        dLogits.withUnsafeBufferPointer { dz in images.withUnsafeBufferPointer { v in dUnit.withUnsafeMutableBufferPointer { dt in
            gemm(transA: true, transB: false, m: c, n: d, k: b, alpha: model.logitScale,
                 a: dz.baseAddress!, lda: c, b: v.baseAddress!, ldb: d, c: dt.baseAddress!, ldc: d)
        } } }
        var dFeatures = [Float](repeating: 0, count: c * d)
        dFeatures.withUnsafeMutableBufferPointer { df in dUnit.withUnsafeBufferPointer { du in
            unit.withUnsafeBufferPointer { u in norms.withUnsafeBufferPointer { n in
                L2Normalize.backward(dinp: df.baseAddress!, dout: du.baseAddress!, out: u.baseAddress!, norms: n.baseAddress!, rows: c, width: d)
            } }
        } }
        var lossCSE: Float = 0
        if let embedding {
            lossCSE = try embedding.forward(captionFeatures: captions, classFeatures: features, labels: labels)
            let dCSE = try embedding.backward(captionFeatures: captions, classFeatures: features, labels: labels, outputGradient: 1 - lambda)
            for i in dFeatures.indices { dFeatures[i] += dCSE[i] }
        }
        var dContext = learner.backward(featureGradient: dFeatures, trace: trace)
        if let tokenEmbedding, let captionTokens = data.captionTokens {
            // The official code's form: token embeddings of captions against those of the prompts,
            // at the full context length; only the context rows receive its gradient.
            let length = model.configuration.contextLength, w = model.configuration.text.width
            let table = model.text.tokenEmbeddings.pointer
            var captionTokenValues = [Float](repeating: 0, count: b * length * w)
            for (r, i) in batch.enumerated() {
                let ids = captionTokens[i]
                for t in 0..<length {
                    let id = Int(t < ids.count ? ids[t] : 0)   // padded with id 0, as the official tokenizer pads
                    for k in 0..<w { captionTokenValues[(r * length + t) * w + k] = table[id * w + k] }
                }
            }
            let promptTokens = learner.tokenEmbeddings(length: length)
            lossCSE = try tokenEmbedding.forward(captionTokens: captionTokenValues, promptTokens: promptTokens, labels: labels, width: w)
            let grad = try tokenEmbedding.backward(captionTokens: captionTokenValues, promptTokens: promptTokens, labels: labels,
                                                   width: w, outputGradient: 1 - lambda)
            let dTokens = learner.contextGradient(fromTokenGradient: grad, length: length)
            for i in dContext.indices { dContext[i] += dTokens[i] }
        }
        state.optimizer.update(&state.context, gradient: dContext, lr: lr)
        return (lambda * lossCls + (1 - lambda) * lossCSE, lossCls, lossCSE)
    }

    /// Runs the remaining epochs of `state` (a fresh one by default), calling `report` with each
    /// event and `checkpoint` after each epoch; `isCancelled` is polled before every step.
    public func run(
        from start: TrainingState? = nil,
        report: (TrainingEvent) -> Void = { _ in },
        checkpoint: (TrainingState) throws -> Void = { _ in },
        isCancelled: () -> Bool = { false }
    ) throws -> TrainingResult {
        let h = hyperparameters
        var state = start ?? initialState()
        let clock = ContinuousClock(), began = clock.now
        let n = data.trainCount
        let stepsPerEpoch = (n + h.batchSize - 1) / h.batchSize
        while state.epochsDone < h.epochs {
            let epoch = state.epochsDone
            // The order of an epoch depends only on the seed and the epoch: a resumed run repeats it.
            var rng = SplitMix64(seed: h.seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
            var order = Array(0..<n)
            order.shuffle(using: &rng)
            let lr = state.schedule.rate(epoch: epoch)
            var sums: (Float, Float, Float) = (0, 0, 0)
            for s in 0..<stepsPerEpoch {
                if isCancelled() { throw TuningError.cancelled }
                let batch = Array(order[(s * h.batchSize)..<min(n, (s + 1) * h.batchSize)])
                let (loss, cls, cse) = try step(batch: batch, state: &state, lr: lr)
                guard loss.isFinite else {
                    throw TuningError.invalidArgument("the loss became \(loss) at epoch \(epoch + 1), step \(s + 1): lower the learning rate")
                }
                sums = (sums.0 + loss, sums.1 + cls, sums.2 + cse)
                report(TrainingEvent(kind: .step, epoch: epoch + 1, step: s + 1, stepsPerEpoch: stepsPerEpoch, loss: loss,
                                     classificationLoss: cls, embeddingLoss: cse, learningRate: lr, validationMAP: nil,
                                     elapsedSeconds: (clock.now - began).inSeconds))
            }
            learner.context.values = state.context
            let map = try validationMAP()
            if let map {
                if state.schedule.record(metric: Float(map)) || state.bestValidationMAP == nil {
                    state.bestValidationMAP = map
                    state.bestContext = state.context
                    state.epochsWithoutImprovement = 0
                } else {
                    state.epochsWithoutImprovement += 1
                }
            } else {
                state.bestContext = state.context   // no validation signal: the latest context is kept
            }
            state.epochsDone += 1
            let k = Float(stepsPerEpoch)
            let event = TrainingEvent(kind: .epoch, epoch: epoch + 1, step: stepsPerEpoch, stepsPerEpoch: stepsPerEpoch,
                                      loss: sums.0 / k, classificationLoss: sums.1 / k, embeddingLoss: sums.2 / k,
                                      learningRate: lr, validationMAP: map, elapsedSeconds: (clock.now - began).inSeconds)
            state.history.append(event)
            report(event)
            try checkpoint(state)
            if h.earlyStopPatience > 0 && state.epochsWithoutImprovement >= h.earlyStopPatience { break }
        }
        learner.context.values = state.bestContext
        return TrainingResult(context: learner.context, classFeatures: learner.classFeatures(),
                              bestValidationMAP: state.bestValidationMAP, epochsRun: state.epochsDone, history: state.history)
    }
}

extension Duration {
    var inSeconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
