/// LMPT's total loss L = λ·L_cls + (1 − λ)·L_cse (λ = 0.5), with L_cls a loss on the logits
/// z [N, C] (DBL by default) and L_cse the feature-level class-specific embedding loss on the
/// class prompt features t [C, D]. For the token-level CSE, call its `backward` with
/// `outputGradient: embeddingShare` and add `classificationShare`·L_cls yourself.
public struct LMPTLoss: Sendable {
    /// One evaluation: the total, its parts, and the gradients of the total.
    public struct Evaluation: Sendable {
        /// L = λ·L_cls + (1 − λ)·L_cse.
        public let value: Float
        /// L_cls.
        public let classification: Float
        /// L_cse.
        public let embedding: Float
        /// dL/dz [N, C].
        public let logitGradient: [Float]
        /// dL/dt [C, D].
        public let classFeatureGradient: [Float]
    }

    /// L_cls.
    public let classification: any MultiLabelLogitLoss
    /// L_cse.
    public let embedding: ClassSpecificEmbeddingLoss
    /// λ, L_cls's share, in [0, 1].
    public let lambda: Float

    /// The total loss; λ must lie in [0, 1].
    public init(classification: any MultiLabelLogitLoss, embedding: ClassSpecificEmbeddingLoss, lambda: Float = 0.5) throws {
        guard lambda >= 0, lambda <= 1 else {
            throw TuningError.invalidArgument("LMPT λ is \(lambda); it must be in [0, 1]")
        }
        self.classification = classification
        self.embedding = embedding
        self.lambda = lambda
    }

    /// λ, the factor of L_cls and of its gradient.
    public var classificationShare: Float { lambda }
    /// 1 − λ, the factor of L_cse and of its gradient.
    public var embeddingShare: Float { 1 - lambda }

    /// λ·L_cls + (1 − λ)·L_cse of two values already computed.
    public func total(classification: Float, embedding: Float) -> Float {
        classificationShare * classification + embeddingShare * embedding
    }

    /// Value and gradients for logits z [N, C], labels y [N, C], caption features u [N, D] and
    /// class prompt features t [C, D].
    public func evaluate(logits: [Float], labels: [Float], captionFeatures: [Float], classFeatures: [Float]) throws -> Evaluation {
        let cls = try classification.forward(logits: logits, labels: labels)
        let cse = try embedding.forward(captionFeatures: captionFeatures, classFeatures: classFeatures, labels: labels)
        return Evaluation(
            value: total(classification: cls, embedding: cse),
            classification: cls,
            embedding: cse,
            logitGradient: try classification.backward(logits: logits, labels: labels, outputGradient: classificationShare),
            classFeatureGradient: try embedding.backward(
                captionFeatures: captionFeatures, classFeatures: classFeatures, labels: labels,
                outputGradient: embeddingShare))
    }
}
