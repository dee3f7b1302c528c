/// The prompt-tuning method: LMPT (class-specific contexts, DBL + class-specific embedding loss)
/// or CoOp (one generic context, classification loss only), the paper's baseline.
public enum TuningMethod: String, Sendable, Codable, CaseIterable {
    case lmpt, coop
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
/// Defaults are the official LMPT scripts' (VOC-LT): SGD 0.9 / 1e-4, lr 5e-4 (csc, M = 16), batch 64,
/// 50 epochs, λ = 0.5, ReduceLROnPlateau on validation mAP with patience 5.
public struct TuningHyperparameters: Sendable, Codable, Equatable {
    public var method: TuningMethod = .lmpt
    public var epochs: Int = 50
    public var batchSize: Int = 64
    public var learningRate: Float = 5e-4
    public var optimizer: OptimizerKind = .sgd
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-4
    public var schedule: LearningRateScheduleKind = .plateau
    public var patience: Int = 5
    /// Stop when validation mAP has not improved for this many epochs (0: never).
    public var earlyStopPatience: Int = 0
    public var contextLength: Int = 16
    /// nil: class-specific for LMPT, generic for CoOp.
    public var classSpecific: Bool? = nil
    public var classPosition: ClassTokenPosition = .end
    /// Initialise the context from these words' embeddings (then M = their token count) instead of N(0, 0.02).
    public var contextInit: String? = nil
    /// λ in L = λ·L_cls + (1 − λ)·L_cse; CoOp uses 1 (no embedding loss).
    public var lambda: Float = 0.5
    public var classificationLoss: ClassificationLossKind = .dbl
    /// DBL's μ and λ_neg (0.3 and 5 for VOC-LT; the paper uses 0.2 and 2 for COCO-LT).
    public var dblCentre: Float = 0.3
    public var dblNegativeScale: Float = 5
    public var cseMargin: Float = 0.2
    public var embeddingLoss: EmbeddingLossForm = .feature
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case method, epochs, optimizer, momentum, schedule, patience, lambda, seed
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
        case embeddingLoss = "cse"
    }

    /// Whether the contexts are per class (LMPT) or shared (CoOp) once defaults are applied.
    public var resolvedClassSpecific: Bool { classSpecific ?? (method == .lmpt) }
    /// λ once the method is applied (CoOp trains the classification loss only).
    public var resolvedLambda: Float { method == .coop ? 1 : lambda }

    /// Checks ranges; the message names the field, as the API's `param` does.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ message: String) throws {
            if !ok { throw TuningError.invalidArgument("\(field): \(message)") }
        }
        try check((1...1000).contains(epochs), "epochs", "must be in 1…1000, got \(epochs)")
        try check((1...4096).contains(batchSize), "batch_size", "must be in 1…4096, got \(batchSize)")
        try check(learningRate > 0 && learningRate < 10 && learningRate.isFinite, "learning_rate", "must be in (0, 10), got \(learningRate)")
        try check((1...64).contains(contextLength), "n_ctx", "must be in 1…64, got \(contextLength)")
        try check(lambda >= 0 && lambda <= 1, "lambda", "must be in [0, 1], got \(lambda)")
        try check(momentum >= 0 && momentum < 1, "momentum", "must be in [0, 1), got \(momentum)")
        try check(weightDecay >= 0 && weightDecay < 1, "weight_decay", "must be in [0, 1), got \(weightDecay)")
        try check(patience >= 0 && earlyStopPatience >= 0, "patience", "must not be negative")
    }
}
