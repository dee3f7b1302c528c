/// The loss prompt tuning trains, whatever the method:
///
///   L = λ·L_cls(z) + (1 − λ)·β·L_cse(u, t) + κ·L_prior(t̂)
///
/// with L_cls a loss on the logits z [N, C] (BCE, DBL, focal or ASL), L_cse the feature-level
/// class-specific embedding loss on the class prompt features t [C, D] against caption features
/// u [N, D] (absent for CoOp, λ = 1), and L_prior KgCoOp's pull of the unit features t̂ towards
/// the hand-written prompts' (absent when κ = 0). The trainer calls `evaluate` each step, so the
/// parity-tested loss is the loss that trains. For the token-level CSE, call its `backward` with
/// `outputGradient: embeddingShare` and add it yourself.
public struct LMPTLoss: Sendable {
    /// One evaluation: the total, its parts (unweighted), and the gradients of the total.
    public struct Evaluation: Sendable {
        /// L.
        public let value: Float
        /// L_cls.
        public let classification: Float
        /// L_cse (0 without it).
        public let embedding: Float
        /// L_prior (0 without it).
        public let prior: Float
        /// dL/dz [N, C].
        public let logitGradient: [Float]
        /// dL/dt [C, D] through L_cse (nil without it).
        public let classFeatureGradient: [Float]?
        /// dL/dt̂ [C, D] through L_prior (nil without it).
        public let unitFeatureGradient: [Float]?
    }

    /// L_cls.
    public let classification: any MultiLabelLogitLoss
    /// L_cse.
    public let embedding: ClassSpecificEmbeddingLoss?
    /// λ, L_cls's share, in [0, 1].
    public let lambda: Float
    /// β, L_cse's weight on top of (1 − λ).
    public let embeddingWeight: Float
    /// L_prior.
    public let prior: TextPriorLoss?
    /// κ.
    public let priorWeight: Float

    /// The total loss; λ must lie in [0, 1], β and κ must be ≥ 0.
    public init(classification: any MultiLabelLogitLoss, embedding: ClassSpecificEmbeddingLoss?, lambda: Float = 0.5,
                embeddingWeight: Float = 1, prior: TextPriorLoss? = nil, priorWeight: Float = 0) throws {
        guard lambda >= 0, lambda <= 1 else {
            throw TuningError.invalidArgument("LMPT λ is \(lambda); it must be in [0, 1]")
        }
        try LossInputs.checkParameter("CSE weight β", embeddingWeight, nonNegative: true)
        try LossInputs.checkParameter("prior weight κ", priorWeight, nonNegative: true)
        self.classification = classification
        self.embedding = embedding
        self.lambda = lambda
        self.embeddingWeight = embeddingWeight
        self.prior = prior
        self.priorWeight = priorWeight
    }

    /// λ, the factor of L_cls and of its gradient.
    public var classificationShare: Float { lambda }
    /// (1 − λ)·β, the factor of L_cse and of its gradient.
    public var embeddingShare: Float { (1 - lambda) * embeddingWeight }

    /// L of parts already computed.
    public func total(classification: Float, embedding: Float, prior: Float = 0) -> Float {
        classificationShare * classification + embeddingShare * embedding + priorWeight * prior
    }

    /// Value and gradients for logits z [N, C], labels y [N, C], caption features u [N, D], class
    /// prompt features t [C, D] and their unit rows t̂ (needed only with the prior).
    public func evaluate(logits: [Float], labels: [Float], captionFeatures: [Float], classFeatures: [Float],
                         unitFeatures: [Float]? = nil) throws -> Evaluation {
        let cls = try classification.forward(logits: logits, labels: labels)
        let dLogits = try classification.backward(logits: logits, labels: labels, outputGradient: classificationShare)
        var cse: Float = 0, dClass: [Float]? = nil
        if let embedding, embeddingShare > 0 {
            cse = try embedding.forward(captionFeatures: captionFeatures, classFeatures: classFeatures, labels: labels)
            dClass = try embedding.backward(captionFeatures: captionFeatures, classFeatures: classFeatures, labels: labels,
                                            outputGradient: embeddingShare)
        }
        var pull: Float = 0, dUnit: [Float]? = nil
        if let prior, priorWeight > 0 {
            guard let unitFeatures else { throw TuningError.invalidArgument("the prior term needs the unit class features") }
            pull = try prior.forward(unitFeatures: unitFeatures)
            dUnit = try prior.backward(unitFeatures: unitFeatures, outputGradient: priorWeight)
        }
        return Evaluation(value: total(classification: cls, embedding: cse, prior: pull), classification: cls, embedding: cse,
                          prior: pull, logitGradient: dLogits, classFeatureGradient: dClass, unitFeatureGradient: dUnit)
    }
}
