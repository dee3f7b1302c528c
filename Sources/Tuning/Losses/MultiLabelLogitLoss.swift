/// A multi-label classification loss on logits z [N, C] (row-major) against multi-hot labels
/// y [N, C] of 0 and 1: the L_cls of LMPT's total loss (DBL by default; BCE, focal and ASL are
/// the baselines the paper compares).
public protocol MultiLabelLogitLoss: Sendable {
    /// The loss value.
    func forward(logits: [Float], labels: [Float]) throws -> Float

    /// dL/dz [N, C], times `outputGradient` (dTotal/dL, e.g. λ in λ·L_cls + (1 − λ)·L_cse).
    func backward(logits: [Float], labels: [Float], outputGradient: Float) throws -> [Float]
}

extension MultiLabelLogitLoss {
    /// dL/dz [N, C].
    public func backward(logits: [Float], labels: [Float]) throws -> [Float] {
        try backward(logits: logits, labels: labels, outputGradient: 1)
    }
}
