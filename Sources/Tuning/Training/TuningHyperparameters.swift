/// The prompt-tuning method.
/// - `auto` (the default): a small search over context kind × loss × learning rate × embedding-loss
///   weight, each candidate scored by stratified k-fold on the training set, inside a time budget.
/// - `lmpt`: the paper's settings (class-specific contexts, DBL + class-specific embedding loss,
///   the official code's loss scale); every setting can be changed.
/// - `coop`: CoOp, the paper's baseline (one generic context, classification loss only).
public enum TuningMethod: String, Sendable, Codable, CaseIterable {
    case auto, lmpt, coop
}

/// The classification loss L_cls.
public enum ClassificationLossKind: String, Sendable, Codable, CaseIterable {
    case dbl, bce, focal, asl
}

/// The form of the class-specific embedding loss: TagTune's feature-level default, or the official
/// code's token-level comparison (for reproducing its numbers).
public enum EmbeddingLossForm: String, Sendable, Codable, CaseIterable {
    case feature, token
}

/// Everything that decides a tuning run besides the data; recorded in the prompt set and the job.
/// The loss is L = λ·L_cls + (1 − λ)·β·L_cse + κ·L_prior (see `LMPTLoss`).
/// `defaults(for:)` gives each method's starting values; `auto` replaces the searched ones.
public struct TuningHyperparameters: Sendable, Codable, Equatable {
    public var method: TuningMethod = .auto
    public var epochs: Int = 50
    public var batchSize: Int = 64
    public var learningRate: Float = 4e-3
    public var optimizer: OptimizerKind = .sgd
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-4
    public var schedule: LearningRateScheduleKind = .cosine
    public var patience: Int = 5
    /// Stop when the selection score has not improved for this many epochs (0: never).
    public var earlyStopPatience: Int = 0
    public var contextLength: Int = 16
    /// nil: the method's kind (class-specific for LMPT unless words initialise it, generic otherwise).
    public var context: ContextKind? = nil
    public var classPosition: ClassTokenPosition = .end
    /// Initialise the context from these words' embeddings (then M = their token count) instead of N(0, 0.02).
    public var contextInit: String? = nil
    /// λ in L = λ·L_cls + (1 − λ)·β·L_cse; CoOp uses 1 (no embedding loss).
    public var lambda: Float = 0.5
    public var classificationLoss: ClassificationLossKind = .bce
    /// DBL's μ and λ_neg (0.3 and 5 for VOC-LT; the paper uses 0.2 and 2 for COCO-LT).
    public var dblCentre: Float = 0.3
    public var dblNegativeScale: Float = 5
    public var cseMargin: Float = 0.2
    /// β, the embedding loss's weight on top of (1 − λ).
    public var cseWeight: Float = 1
    /// How the feature-level embedding loss is reduced (`class_sum`: ω mean 1, summed over classes).
    public var cseReduction: EmbeddingLossReduction = .classSum
    public var embeddingLoss: EmbeddingLossForm = .feature
    /// κ, the pull of each class feature towards its hand-written prompt's (KgCoOp); 0: off.
    public var priorWeight: Float = 0
    /// α of the served class features normalise((1 − α)·t̂ + α·ẑ), the blend with the hand-written
    /// prompt's (`ZeroShotBlend`); nil: chosen with the score normalisation on the held-out scores
    /// from `ZeroShotBlend.weights` (`auto`'s default). `lmpt` and `coop` serve the tuned prompt (0).
    public var zeroShotWeight: Float? = nil
    /// k of the stratified k-fold that scores epochs and candidates when no validation set is given.
    public var folds: Int = 3
    /// `auto` only: the search's time budget in minutes (the final training comes on top).
    public var budgetMinutes: Float = 10
    /// `auto` only: hyper-parameters the user set, which the search leaves as given.
    public var fixed: [String] = []
    public var seed: UInt64 = 0

    public init() {}

    /// A method's defaults. LMPT: the official scripts' (VOC-LT) — SGD 0.9 / 1e-4, lr 5e-4,
    /// class-specific M = 16, DBL, λ 0.5, the official embedding-loss scale, ReduceLROnPlateau.
    /// CoOp: lr 2e-3, generic, BCE. Auto: the search's starting point (generic, BCE, lr 4e-3, cosine).
    public static func defaults(for method: TuningMethod) -> TuningHyperparameters {
        var h = TuningHyperparameters()
        h.method = method
        switch method {
        case .auto:
            break
        case .lmpt:
            h.zeroShotWeight = 0
            h.learningRate = 5e-4
            h.classificationLoss = .dbl
            h.cseReduction = .official
            h.schedule = .plateau
        case .coop:
            h.zeroShotWeight = 0
            h.learningRate = 2e-3
            h.schedule = .plateau
        }
        return h
    }

    enum CodingKeys: String, CodingKey {
        case method, epochs, optimizer, momentum, schedule, patience, lambda, seed, context, folds, fixed
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case weightDecay = "weight_decay"
        case earlyStopPatience = "early_stop_patience"
        case contextLength = "n_ctx"
        case classSpecific = "class_specific"
        case classPosition = "class_position"
        case contextInit = "ctx_init"
        case classificationLoss = "loss"
        case dblCentre = "dbl_mu"
        case dblNegativeScale = "dbl_lambda_neg"
        case cseMargin = "cse_margin"
        case cseWeight = "cse_weight"
        case cseReduction = "cse_reduction"
        case embeddingLoss = "cse"
        case priorWeight = "prior_weight"
        case budgetMinutes = "budget_minutes"
        case zeroShotWeight = "zero_shot_weight"
    }

    /// Reads what older prompt sets and job records wrote too: a missing key keeps the method's
    /// default, and `class_specific` (true/false) stands for `context` when that is absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Records from before `auto` existed were LMPT or CoOp with the old defaults.
        let method = try c.decodeIfPresent(TuningMethod.self, forKey: .method) ?? .lmpt
        self = .defaults(for: method)
        if !c.contains(.cseReduction) && method != .auto { cseReduction = .official }
        func read<T: Decodable>(_ key: CodingKeys, _ target: inout T) throws {
            if let value = try c.decodeIfPresent(T.self, forKey: key) { target = value }
        }
        try read(.epochs, &epochs); try read(.batchSize, &batchSize); try read(.learningRate, &learningRate)
        try read(.optimizer, &optimizer); try read(.momentum, &momentum); try read(.weightDecay, &weightDecay)
        try read(.schedule, &schedule); try read(.patience, &patience); try read(.earlyStopPatience, &earlyStopPatience)
        try read(.contextLength, &contextLength); try read(.classPosition, &classPosition)
        contextInit = try c.decodeIfPresent(String.self, forKey: .contextInit)
        try read(.lambda, &lambda); try read(.classificationLoss, &classificationLoss)
        try read(.dblCentre, &dblCentre); try read(.dblNegativeScale, &dblNegativeScale); try read(.cseMargin, &cseMargin)
        try read(.cseWeight, &cseWeight); try read(.cseReduction, &cseReduction); try read(.embeddingLoss, &embeddingLoss)
        try read(.priorWeight, &priorWeight); try read(.folds, &folds); try read(.budgetMinutes, &budgetMinutes)
        try read(.seed, &seed); try read(.fixed, &fixed)
        if let weight = try c.decodeIfPresent(Float.self, forKey: .zeroShotWeight) { zeroShotWeight = weight }
        context = try c.decodeIfPresent(ContextKind.self, forKey: .context)
        if context == nil, let flag = try c.decodeIfPresent(Bool.self, forKey: .classSpecific) {
            context = flag ? .classSpecific : .generic
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method); try c.encode(epochs, forKey: .epochs); try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate); try c.encode(optimizer, forKey: .optimizer)
        try c.encode(momentum, forKey: .momentum); try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(schedule, forKey: .schedule); try c.encode(patience, forKey: .patience)
        try c.encode(earlyStopPatience, forKey: .earlyStopPatience); try c.encode(contextLength, forKey: .contextLength)
        try c.encode(resolvedContext, forKey: .context); try c.encode(classPosition, forKey: .classPosition)
        try c.encodeIfPresent(contextInit, forKey: .contextInit); try c.encode(lambda, forKey: .lambda)
        try c.encode(classificationLoss, forKey: .classificationLoss); try c.encode(dblCentre, forKey: .dblCentre)
        try c.encode(dblNegativeScale, forKey: .dblNegativeScale); try c.encode(cseMargin, forKey: .cseMargin)
        try c.encode(cseWeight, forKey: .cseWeight); try c.encode(cseReduction, forKey: .cseReduction)
        try c.encode(embeddingLoss, forKey: .embeddingLoss); try c.encode(priorWeight, forKey: .priorWeight)
        try c.encode(folds, forKey: .folds); try c.encode(budgetMinutes, forKey: .budgetMinutes); try c.encode(seed, forKey: .seed)
        try c.encodeIfPresent(zeroShotWeight, forKey: .zeroShotWeight)
        if !fixed.isEmpty { try c.encode(fixed, forKey: .fixed) }
    }

    /// The context kind once defaults are applied. As in the official LMPT code, words
    /// initialise one shared context: LMPT with `ctx_init` and no explicit kind is generic.
    public var resolvedContext: ContextKind {
        if let context { return context }
        return method == .lmpt && contextInit == nil ? .classSpecific : .generic
    }
    /// The zero-shot blend weights the held-out scores choose from (one when the weight is set).
    public var zeroShotWeights: [Float] { zeroShotWeight.map { [$0] } ?? ZeroShotBlend.weights }
    /// Whether classes get contexts of their own once defaults are applied.
    public var resolvedClassSpecific: Bool { resolvedContext != .generic }
    /// λ once the method is applied (CoOp trains the classification loss only).
    public var resolvedLambda: Float { method == .coop ? 1 : lambda }

    /// Checks every field's range (the table's); the message starts with the field's name.
    public func validate() throws {
        if let problem = rangeProblem { throw TuningError.invalidArgument(problem.description) }
    }

    /// The first field out of its range, if any.
    public var rangeProblem: HyperparameterError? {
        Self.table.lazy.compactMap { $0.rangeProblem(in: self) }.first
    }
}
