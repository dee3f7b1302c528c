import Foundation

/// Asymmetric loss (ASL, Ridnik et al., ICCV 2021; Alibaba-MIIL/ASL `AsymmetricLoss`):
/// with p = σ(z),
///   positive: −(1 − p)^γ₊ · log(max(p, ε))
///   negative: −p_m^γ₋ · log(max(1 − p_m, ε)),  p_m = max(p − clip, 0)  (probability shifting:
///             a negative with p < clip costs nothing)
/// summed over all N·C elements (the reference) or averaged (LMPT's copy, lmpt/asl.py).
/// Both compute the focal weights without gradient (`disable_torch_grad_focal_loss`, the
/// reference `AsymmetricLoss` default and what LMPT's training sets); `weightGradient` also
/// differentiates them, as `AsymmetricLossOptimized`'s default does.
public struct AsymmetricLoss: MultiLabelLogitLoss {
    /// How the element losses are reduced.
    public enum Reduction: Sendable {
        /// Σ over all elements (Alibaba-MIIL/ASL).
        case sum
        /// Σ / NC (the official LMPT copy).
        case mean
    }

    /// γ₋, focusing exponent of negatives (4).
    public let negativeFocusing: Float
    /// γ₊, focusing exponent of positives (0).
    public let positiveFocusing: Float
    /// The probability margin shifted off negatives (0.05).
    public let clip: Float
    /// Floor of the probabilities inside the logarithms (1e-8).
    public let epsilon: Float
    /// Sum (reference) or mean (LMPT).
    public let reduction: Reduction
    /// Whether the gradient flows through the focal weights (false: they are constants).
    public let weightGradient: Bool

    /// An ASL; exponents and clip ≥ 0, ε > 0.
    public init(
        negativeFocusing: Float = 4, positiveFocusing: Float = 0, clip: Float = 0.05, epsilon: Float = 1e-8,
        reduction: Reduction = .sum, weightGradient: Bool = false
    ) throws {
        try LossInputs.checkParameter("ASL γ₋", negativeFocusing, nonNegative: true)
        try LossInputs.checkParameter("ASL γ₊", positiveFocusing, nonNegative: true)
        try LossInputs.checkParameter("ASL clip", clip, nonNegative: true)
        try LossInputs.checkParameter("ASL ε", epsilon, positive: true)
        self.negativeFocusing = negativeFocusing
        self.positiveFocusing = positiveFocusing
        self.clip = clip
        self.epsilon = epsilon
        self.reduction = reduction
        self.weightGradient = weightGradient
    }

    /// The loss of one element and its derivative with respect to the logit.
    @inline(__always)
    private func element(logit z: Double, positive: Bool) -> (value: Double, derivative: Double) {
        let eps = Double(epsilon)
        if positive {
            let p = LossMath.sigmoid(z)
            let oneMinusP = LossMath.sigmoid(-z)      // 1 − p without cancellation
            let gamma = Double(positiveFocusing)
            let weight = gamma == 0 ? 1 : pow(oneMinusP, gamma)
            let logTerm = log(max(p, eps))
            // d log p/dz = 1 − p; zero where the ε floor holds p.
            let dLog = p >= eps ? oneMinusP : 0
            // d(1 − p)^γ/dz = −γ·(1 − p)^γ·p
            let dWeight = weightGradient && gamma != 0 ? -gamma * weight * p : 0
            return (-logTerm * weight, -(dLog * weight + logTerm * dWeight))
        }
        let p = LossMath.sigmoid(z)
        let clip = Double(self.clip)
        // p < clip: the shifted probability is 0, 1 − p_m clamps to 1, loss and gradient vanish.
        guard p >= clip else { return (0, 0) }
        let shifted = p - clip                        // p_m = 1 − x_neg
        let kept = LossMath.sigmoid(-z) + clip        // x_neg = 1 − p + clip ≤ 1
        let gamma = Double(negativeFocusing)
        let weight = gamma == 0 ? 1 : pow(shifted, gamma)
        let logTerm = log(max(kept, eps))
        let dKept = -p * LossMath.sigmoid(-z)         // dx_neg/dz = −p·(1 − p)
        let dLog = kept >= eps ? dKept / kept : 0
        // d p_m^γ/dz = γ·p_m^(γ−1)·p(1 − p); γ·p_m^(γ−1) is 0 for γ = 0 and guarded at p_m = 0.
        var dWeight = 0.0
        if weightGradient && gamma != 0 {
            let slope = shifted > 0 ? gamma * pow(shifted, gamma - 1) : (gamma == 1 ? 1 : 0)
            dWeight = -slope * dKept
        }
        return (-logTerm * weight, -(dLog * weight + logTerm * dWeight))
    }

    /// 1 for a sum, 1/NC for a mean.
    private func reductionScale(count: Int) -> Double {
        reduction == .sum ? 1 : 1 / Double(count)
    }

    /// L, accumulated in Double.
    func value(logits: [Float], labels: [Float]) throws -> Double {
        _ = try LossInputs.checkLogits(logits, labels: labels)
        var sum = 0.0
        for i in logits.indices {
            sum += element(logit: Double(logits[i]), positive: labels[i] == 1).value
        }
        return sum * reductionScale(count: logits.count)
    }

    public func forward(logits: [Float], labels: [Float]) throws -> Float {
        Float(try value(logits: logits, labels: labels))
    }

    public func backward(logits: [Float], labels: [Float], outputGradient: Float) throws -> [Float] {
        _ = try LossInputs.checkLogits(logits, labels: labels)
        let scale = Double(outputGradient) * reductionScale(count: logits.count)
        var gradient = [Float](repeating: 0, count: logits.count)
        for i in logits.indices {
            gradient[i] = Float(scale * element(logit: Double(logits[i]), positive: labels[i] == 1).derivative)
        }
        return gradient
    }
}
