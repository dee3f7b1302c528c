/// Binary cross-entropy with logits, mean over all N·C elements (PyTorch's
/// `binary_cross_entropy_with_logits`, reduction 'mean'):
/// L = (1/NC)·Σ softplus(z) − y·z.
public struct BinaryCrossEntropyLoss: MultiLabelLogitLoss {
    /// The loss (no parameters).
    public init() {}

    /// L, accumulated in Double.
    func value(logits: [Float], labels: [Float]) throws -> Double {
        _ = try LossInputs.checkLogits(logits, labels: labels)
        var sum = 0.0
        for i in logits.indices {
            let z = Double(logits[i])
            // softplus(−z) for a positive, softplus(z) for a negative: no cancellation at ±100.
            sum += LossMath.softplus(labels[i] == 1 ? -z : z)
        }
        return sum / Double(logits.count)
    }

    public func forward(logits: [Float], labels: [Float]) throws -> Float {
        Float(try value(logits: logits, labels: labels))
    }

    /// dL/dz = (σ(z) − y)/NC.
    public func backward(logits: [Float], labels: [Float], outputGradient: Float) throws -> [Float] {
        _ = try LossInputs.checkLogits(logits, labels: labels)
        let scale = Double(outputGradient) / Double(logits.count)
        var gradient = [Float](repeating: 0, count: logits.count)
        for i in logits.indices {
            let z = Double(logits[i])
            // σ(z) − 1 = −σ(−z) keeps a positive's small gradient exact.
            let d = labels[i] == 1 ? -LossMath.sigmoid(-z) : LossMath.sigmoid(z)
            gradient[i] = Float(scale * d)
        }
        return gradient
    }
}
