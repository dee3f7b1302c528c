/// Sigmoid focal loss (Lin et al., ICCV 2017; torchvision's `sigmoid_focal_loss`), mean over all
/// N·C elements: L = (1/NC)·Σ α_t·(1 − p_t)^γ·ℓ, ℓ = BCE-with-logits(z, y), p_t = σ(z) for a
/// positive and 1 − σ(z) for a negative, α_t = α for a positive and 1 − α for a negative
/// (1 without α). The focal factor is differentiated (as torchvision does).
public struct FocalLoss: MultiLabelLogitLoss {
    /// γ, the focusing exponent (2).
    public let focusing: Float
    /// α, the positives' share of the weight; `nil` weighs both sides 1 (the default here;
    /// torchvision's default is 0.25).
    public let alpha: Float?

    /// A focal loss; γ ≥ 0, α in [0, 1].
    public init(focusing: Float = 2, alpha: Float? = nil) throws {
        try LossInputs.checkParameter("focal γ", focusing, nonNegative: true)
        if let alpha {
            guard alpha >= 0, alpha <= 1 else { throw TuningError.invalidArgument("focal α is \(alpha); it must be in [0, 1]") }
        }
        self.focusing = focusing
        self.alpha = alpha
    }

    /// α_t of a positive or a negative.
    @inline(__always)
    private func sideWeight(positive: Bool) -> Double {
        guard let alpha else { return 1 }
        return positive ? Double(alpha) : 1 - Double(alpha)
    }

    /// L, accumulated in Double.
    func value(logits: [Float], labels: [Float]) throws -> Double {
        _ = try LossInputs.checkLogits(logits, labels: labels)
        let gamma = Double(focusing)
        var sum = 0.0
        for i in logits.indices {
            let positive = labels[i] == 1
            let term = LossMath.focalBinaryCrossEntropy(logit: Double(logits[i]), positive: positive, focusing: gamma)
            sum += sideWeight(positive: positive) * term.value
        }
        return sum / Double(logits.count)
    }

    public func forward(logits: [Float], labels: [Float]) throws -> Float {
        Float(try value(logits: logits, labels: labels))
    }

    /// dL/dz = (α_t/NC)·d(q^γ·ℓ)/dz, q = 1 − p_t (see `LossMath.focalBinaryCrossEntropy`).
    public func backward(logits: [Float], labels: [Float], outputGradient: Float) throws -> [Float] {
        _ = try LossInputs.checkLogits(logits, labels: labels)
        let gamma = Double(focusing)
        let scale = Double(outputGradient) / Double(logits.count)
        var gradient = [Float](repeating: 0, count: logits.count)
        for i in logits.indices {
            let positive = labels[i] == 1
            let term = LossMath.focalBinaryCrossEntropy(logit: Double(logits[i]), positive: positive, focusing: gamma)
            gradient[i] = Float(scale * sideWeight(positive: positive) * term.derivative)
        }
        return gradient
    }
}
