import CLIP
import Compute

/// One line of a run's log: progress after a step, or the selection score after an epoch.
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
    public var validationMAP: Double?  // percent, epochs only: the held-out mAP of that epoch, when there is one
    public let elapsedSeconds: Double
    /// ‖∂(1 − λ)β·L_cse/∂t‖ / ‖∂λ·L_cls/∂t‖ on the class features (epoch: mean over steps); nil without L_cse.
    public var gradientRatio: Float? = nil
    /// L_prior (nil when off).
    public var priorLoss: Float? = nil
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
    /// The selection whose chosen setting this final training runs: a resumed job keeps it instead
    /// of searching again (a search cut by its time budget need not choose the same twice).
    /// Nil in checkpoints written before it was kept, and during selection.
    public var selection: SelectionRecord? = nil
}

/// The result of a run: the shipped context and its class features.
public struct TrainingResult: Sendable {
    public let context: PromptContext
    public let classFeatures: [Float]        // [C, D], projected, not normalised
    public let bestValidationMAP: Double?
    public let epochsRun: Int
    public let history: [TrainingEvent]
}

/// What one optimisation step measured.
public struct StepMeasurement: Sendable {
    public var loss: Float
    public var classification: Float
    public var embedding: Float
    public var prior: Float
    /// Norms of the two terms' gradients on the class features t [C, D].
    public var classificationGradientNorm: Float
    public var embeddingGradientNorm: Float

    /// ‖∇L_cse‖ / ‖∇L_cls‖, nil when there is no embedding term.
    public var gradientRatio: Float? {
        embeddingGradientNorm > 0 ? embeddingGradientNorm / max(classificationGradientNorm, 1e-30) : nil
    }
}

/// Prompt tuning on cached features. A step is a chain of forward/backward pairs, llm.c style,
/// over buffers allocated once per batch size:
///
///   gather → text tower (prompts → t) → normalise (t̂) → logits z = s·v t̂ᵀ → LMPTLoss
///   → logits backward (dt̂) → normalise backward (dt) + dt from L_cse → text tower backward → dctx → optimiser
///
/// The loop over epochs belongs to the caller (`EpochSelection`), which trains folds in lockstep.
public final class PromptTrainer {
    public let model: CLIPModel
    public let data: TrainingData
    public let hyperparameters: TuningHyperparameters
    public let learner: PromptLearner
    /// The loss that trains (the same type the parity tests check).
    public let objective: LMPTLoss
    let tokenEmbedding: ClassSpecificTokenEmbeddingLoss?
    private var buffers: [Int: StepBuffers] = [:]

    /// `priorFeatures` [C, D]: the hand-written prompts' features, needed when κ > 0.
    public init(model: CLIPModel, data: TrainingData, hyperparameters h: TuningHyperparameters, priorFeatures: [Float]? = nil) throws {
        try h.validate()
        self.model = model
        self.data = data
        hyperparameters = h
        let width = model.configuration.text.width, classes = data.classNames.count
        let context = try h.contextInit.map {
            try PromptContext.fromWords($0, model: model, classes: classes, kind: h.resolvedContext)
        } ?? PromptContext.random(classes: classes, length: h.contextLength, width: width, kind: h.resolvedContext, seed: h.seed)
        learner = try PromptLearner(model: model, classNames: data.classNames, context: context, position: h.classPosition)
        // Statistics need every class seen at least once; a class absent from training gets count 1.
        let counts = data.classCounts.map { max($0, 1) }
        let classification: any MultiLabelLogitLoss
        switch h.classificationLoss {
        case .dbl:
            classification = try DistributionBalancedLoss(
                classCounts: counts.map { min($0, max(data.trainCount - 1, 1)) }, trainingImageCount: max(data.trainCount, 2),
                weightCentre: h.dblCentre, negativeScale: h.dblNegativeScale)
        case .bce: classification = BinaryCrossEntropyLoss()
        case .focal: classification = try FocalLoss()
        case .asl: classification = try AsymmetricLoss()
        }
        let lambda = h.resolvedLambda
        let usesEmbeddingLoss = lambda < 1 && h.cseWeight > 0
        let embedding = usesEmbeddingLoss && h.embeddingLoss == .feature
            ? try ClassSpecificEmbeddingLoss(classCounts: counts, margin: h.cseMargin, reduction: h.cseReduction) : nil
        var prior: TextPriorLoss? = nil
        if h.priorWeight > 0 {
            guard let priorFeatures else { throw TuningError.invalidArgument("prior_weight needs the hand-written prompts' features") }
            prior = try TextPriorLoss(priorFeatures: priorFeatures, classes: classes)
        }
        objective = try LMPTLoss(classification: classification, embedding: embedding, lambda: lambda,
                                 embeddingWeight: h.cseWeight, prior: prior, priorWeight: h.priorWeight)
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

    /// Class features [C, D] (raw) of `context` (the learner's own by default).
    public func classFeatures(context: [Float]? = nil) -> [Float] {
        if let context { learner.context.values = context }
        return learner.classFeatures()
    }

    /// s · cos(image, class) for unit image rows [N, D] against raw class features [C, D].
    public func logits(imageFeatures: [Float], classFeatures: [Float]) -> [Float] {
        let d = data.dimension
        return Labeling.cosineLogits(images: imageFeatures, classes: L2Normalize.rows(classFeatures, width: d),
                                     dimension: d, scale: model.logitScale)
    }

    /// One optimisation step on the training images `batch`.
    public func step(batch: [Int], state: inout TrainingState, lr: Float) throws -> StepMeasurement {
        let d = data.dimension, c = data.classNames.count, b = batch.count
        let buf = buffers[b] ?? StepBuffers(batch: b, classes: c, dimension: d)
        buffers[b] = buf
        buf.gather(batch, from: data)

        learner.context.values = state.context
        let (features, trace) = learner.forward()                                       // t [C, D]
        buf.normaliseForward(features)                                                   // t̂, ‖t‖
        buf.logitsForward(scale: model.logitScale)                                       // z = s·v t̂ᵀ
        let loss = try objective.evaluate(logits: buf.logits, labels: buf.labels, captionFeatures: buf.captions,
                                          classFeatures: features, unitFeatures: buf.unit)
        buf.logitsBackward(loss.logitGradient, scale: model.logitScale)                  // dt̂ from L_cls
        buf.normaliseBackward()                                                          // dt from L_cls
        var measured = StepMeasurement(loss: loss.value, classification: loss.classification, embedding: loss.embedding,
                                       prior: loss.prior, classificationGradientNorm: buf.featureGradientNorm(),
                                       embeddingGradientNorm: 0)
        if let dUnit = loss.unitFeatureGradient { buf.normaliseBackward(adding: dUnit) }  // dt from L_prior
        if let dCSE = loss.classFeatureGradient {                                         // dt from L_cse
            var norm: Float = 0
            for i in 0..<(c * d) { buf.dFeatures[i] += dCSE[i]; norm += dCSE[i] * dCSE[i] }
            measured.embeddingGradientNorm = norm.squareRoot()
        }
        var dContext = learner.backward(featureGradient: buf.dFeatures, trace: trace)   // dctx
        if let tokenEmbedding, let captionTokens = data.captionTokens {
            let (value, dTokens) = try tokenEmbeddingTerm(tokenEmbedding, captionTokens: captionTokens, batch: batch)
            measured.embedding = value
            measured.loss = objective.total(classification: loss.classification, embedding: value, prior: loss.prior)
            var norm: Float = 0
            for i in dContext.indices { dContext[i] += dTokens[i]; norm += dTokens[i] * dTokens[i] }
            measured.embeddingGradientNorm = norm.squareRoot()
        }
        state.optimizer.update(&state.context, gradient: dContext, lr: lr)
        return measured
    }

    /// The official code's token form: token embeddings of captions against those of the prompts,
    /// at the full context length; only the context rows receive its gradient.
    private func tokenEmbeddingTerm(_ loss: ClassSpecificTokenEmbeddingLoss, captionTokens: [[Int32]], batch: [Int]) throws
        -> (Float, [Float]) {
        let length = model.configuration.contextLength, w = model.configuration.text.width, b = batch.count
        let table = model.text.tokenEmbeddings.pointer
        var captionTokenValues = [Float](repeating: 0, count: b * length * w)
        for (r, i) in batch.enumerated() {
            let ids = captionTokens[i]
            for t in 0..<length {
                let id = Int(t < ids.count ? ids[t] : 0)   // padded with id 0, as the official tokenizer pads
                for k in 0..<w { captionTokenValues[(r * length + t) * w + k] = table[id * w + k] }
            }
        }
        let labels = StepBuffers.labels(of: batch, from: data)
        let promptTokens = learner.tokenEmbeddings(length: length)
        let value = try loss.forward(captionTokens: captionTokenValues, promptTokens: promptTokens, labels: labels, width: w)
        let grad = try loss.backward(captionTokens: captionTokenValues, promptTokens: promptTokens, labels: labels,
                                     width: w, outputGradient: objective.embeddingShare)
        return (value, learner.contextGradient(fromTokenGradient: grad, length: length))
    }

    /// One epoch of steps in the seed's order for that epoch (a resumed run repeats it), calling
    /// `report` after each step; returns the epoch's means. `isCancelled` is polled before every step.
    public func trainEpoch(_ epoch: Int, state: inout TrainingState, lr: Float, began: ContinuousClock.Instant,
                           report: (TrainingEvent) -> Void = { _ in }, isCancelled: () -> Bool = { false }) throws -> TrainingEvent {
        let h = hyperparameters, n = data.trainCount
        let stepsPerEpoch = (n + h.batchSize - 1) / h.batchSize
        var rng = SplitMix64(seed: h.seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
        var order = Array(0..<n)
        order.shuffle(using: &rng)
        var sums: (Float, Float, Float, Float) = (0, 0, 0, 0), ratioSum: Float = 0, ratios = 0
        let clock = ContinuousClock()
        for s in 0..<stepsPerEpoch {
            if isCancelled() { throw TuningError.cancelled }
            let batch = Array(order[(s * h.batchSize)..<min(n, (s + 1) * h.batchSize)])
            let m = try step(batch: batch, state: &state, lr: lr)
            guard m.loss.isFinite else {
                throw TuningError.invalidArgument("the loss became \(m.loss) at epoch \(epoch + 1), step \(s + 1): lower the learning rate")
            }
            sums = (sums.0 + m.loss, sums.1 + m.classification, sums.2 + m.embedding, sums.3 + m.prior)
            if let r = m.gradientRatio { ratioSum += r; ratios += 1 }
            var event = TrainingEvent(kind: .step, epoch: epoch + 1, step: s + 1, stepsPerEpoch: stepsPerEpoch, loss: m.loss,
                                      classificationLoss: m.classification, embeddingLoss: m.embedding, learningRate: lr,
                                      validationMAP: nil, elapsedSeconds: (clock.now - began).inSeconds)
            event.gradientRatio = m.gradientRatio
            event.priorLoss = objective.prior == nil ? nil : m.prior
            report(event)
        }
        let k = Float(stepsPerEpoch)
        var event = TrainingEvent(kind: .epoch, epoch: epoch + 1, step: stepsPerEpoch, stepsPerEpoch: stepsPerEpoch,
                                  loss: sums.0 / k, classificationLoss: sums.1 / k, embeddingLoss: sums.2 / k,
                                  learningRate: lr, validationMAP: nil, elapsedSeconds: (clock.now - began).inSeconds)
        event.gradientRatio = ratios > 0 ? ratioSum / Float(ratios) : nil
        event.priorLoss = objective.prior == nil ? nil : sums.3 / k
        state.epochsDone = epoch + 1
        return event
    }

    /// Trains the remaining epochs of `start` (a fresh state by default) at `learningRates[epoch]`
    /// (the final run replays the rates its selection used; nil: the schedule's, without a metric),
    /// for `learningRates.count` epochs (nil: `epochs`). `report` gets every event, `checkpoint` the
    /// state after each epoch; `isCancelled` is polled before every step. Ships the last context.
    public func run(
        learningRates: [Float]? = nil, from start: TrainingState? = nil,
        report: (TrainingEvent) -> Void = { _ in },
        checkpoint: (TrainingState) throws -> Void = { _ in },
        isCancelled: () -> Bool = { false }
    ) throws -> TrainingResult {
        var state = start ?? initialState()
        guard state.context.count == learner.context.values.count else {
            throw TuningError.invalidArgument("the checkpoint's context holds \(state.context.count) values; this setting's holds \(learner.context.values.count)")
        }
        let began = ContinuousClock.now
        let epochs = learningRates?.count ?? hyperparameters.epochs
        while state.epochsDone < epochs {
            let epoch = state.epochsDone
            let lr = learningRates?[epoch] ?? state.schedule.rate(epoch: epoch)
            let event = try trainEpoch(epoch, state: &state, lr: lr, began: began, report: report, isCancelled: isCancelled)
            state.history.append(event)
            report(event)
            try checkpoint(state)
        }
        state.bestContext = state.context
        learner.context.values = state.context
        return TrainingResult(context: learner.context, classFeatures: learner.classFeatures(),
                              bestValidationMAP: state.bestValidationMAP, epochsRun: state.epochsDone, history: state.history)
    }
}

/// The step's arrays, allocated once per batch size (a run has at most two: full and last).
final class StepBuffers {
    let batch: Int, classes: Int, dimension: Int
    var images: [Float], captions: [Float], labels: [Float]     // v [B, D], u [B, D], y [B, C]
    var unit: [Float], norms: [Float]                           // t̂ [C, D], ‖t‖ [C]
    var logits: [Float]                                         // z [B, C]
    var dUnit: [Float], dFeatures: [Float]                      // dt̂, dt [C, D]

    init(batch: Int, classes: Int, dimension: Int) {
        self.batch = batch; self.classes = classes; self.dimension = dimension
        images = [Float](repeating: 0, count: batch * dimension); captions = images
        labels = [Float](repeating: 0, count: batch * classes); logits = labels
        unit = [Float](repeating: 0, count: classes * dimension); dUnit = unit; dFeatures = unit
        norms = [Float](repeating: 0, count: classes)
    }

    static func labels(of batch: [Int], from data: TrainingData) -> [Float] {
        let c = data.classNames.count
        var y = [Float](repeating: 0, count: batch.count * c)
        for (row, i) in batch.enumerated() { for k in 0..<c { y[row * c + k] = data.trainLabels[i * c + k] } }
        return y
    }

    func gather(_ batch: [Int], from data: TrainingData) {
        let d = dimension, c = classes
        data.trainFeatures.withUnsafeBufferPointer { v in data.captionFeatures.withUnsafeBufferPointer { u in
            data.trainLabels.withUnsafeBufferPointer { y in
                for (row, i) in batch.enumerated() {
                    for k in 0..<d { images[row * d + k] = v[i * d + k]; captions[row * d + k] = u[i * d + k] }
                    for k in 0..<c { labels[row * c + k] = y[i * c + k] }
                }
            }
        } }
    }

    func normaliseForward(_ features: [Float]) {
        features.withUnsafeBufferPointer { t in unit.withUnsafeMutableBufferPointer { u in norms.withUnsafeMutableBufferPointer { n in
            L2Normalize.forward(out: u.baseAddress!, norms: n.baseAddress!, inp: t.baseAddress!, rows: classes, width: dimension)
        } } }
    }

    func logitsForward(scale: Float) {
        images.withUnsafeBufferPointer { v in unit.withUnsafeBufferPointer { t in logits.withUnsafeMutableBufferPointer { z in
            gemm(transA: false, transB: true, m: batch, n: classes, k: dimension, alpha: scale,
                 a: v.baseAddress!, lda: dimension, b: t.baseAddress!, ldb: dimension, c: z.baseAddress!, ldc: classes)
        } } }
    }

    /// dt̂ = s · dzᵀ · v [C, D].
    func logitsBackward(_ dLogits: [Float], scale: Float) {
        dLogits.withUnsafeBufferPointer { dz in images.withUnsafeBufferPointer { v in dUnit.withUnsafeMutableBufferPointer { dt in
            gemm(transA: true, transB: false, m: classes, n: dimension, k: batch, alpha: scale,
                 a: dz.baseAddress!, lda: classes, b: v.baseAddress!, ldb: dimension, c: dt.baseAddress!, ldc: dimension)
        } } }
    }

    /// dt = (the normalisation's backward of dt̂); `adding` sends another dt̂ through and adds it.
    func normaliseBackward(adding extra: [Float]? = nil) {
        if extra == nil { for i in dFeatures.indices { dFeatures[i] = 0 } }
        let source = extra ?? dUnit
        dFeatures.withUnsafeMutableBufferPointer { df in source.withUnsafeBufferPointer { du in
            unit.withUnsafeBufferPointer { u in norms.withUnsafeBufferPointer { n in
                L2Normalize.backward(dinp: df.baseAddress!, dout: du.baseAddress!, out: u.baseAddress!, norms: n.baseAddress!,
                                     rows: classes, width: dimension)
            } }
        } }
    }

    func featureGradientNorm() -> Float {
        var sum: Float = 0
        for x in dFeatures { sum += x * x }
        return sum.squareRoot()
    }
}

extension Duration {
    var inSeconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
