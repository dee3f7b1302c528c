/// Which update rule trains the context vectors.
public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
    case sgd, adamw
}

/// The update rules, with PyTorch's exact semantics so results carry over:
/// SGD (`torch.optim.SGD`, momentum, dampening 0, L2 weight decay added to the gradient) and
/// AdamW (`torch.optim.AdamW`, decoupled weight decay, bias-corrected moments).
public struct Optimizer: Sendable, Codable {
    public let kind: OptimizerKind
    public var momentum: Float
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    /// Steps taken (AdamW's bias correction; SGD's first-step buffer initialisation).
    public private(set) var step: Int = 0
    /// SGD's momentum buffer, or AdamW's first moment.
    public private(set) var firstMoment: [Float] = []
    /// AdamW's second moment.
    public private(set) var secondMoment: [Float] = []

    public static func sgd(momentum: Float = 0.9, weightDecay: Float = 1e-4) -> Optimizer {
        Optimizer(kind: .sgd, momentum: momentum, weightDecay: weightDecay, beta1: 0.9, beta2: 0.999, eps: 1e-8)
    }

    public static func adamW(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 1e-2) -> Optimizer {
        Optimizer(kind: .adamw, momentum: 0, weightDecay: weightDecay, beta1: beta1, beta2: beta2, eps: eps)
    }

    /// Puts back moment buffers that a checkpoint kept apart from the rest of the state (as raw
    /// floats); empty buffers stand for none yet. Throws when they cannot belong to this rule.
    public mutating func replaceMoments(first: [Float], second: [Float]) throws {
        switch kind {
        case .sgd:
            guard second.isEmpty else {
                throw TuningError.invalidArgument("SGD keeps one moment buffer, but a second of \(second.count) values was given")
            }
        case .adamw:
            guard second.count == first.count else {
                throw TuningError.invalidArgument("AdamW's moments must be equally long, not \(first.count) and \(second.count) values")
            }
        }
        firstMoment = first
        secondMoment = second
    }

    /// One update of `parameters` with `gradient` at learning rate `lr`.
    public mutating func update(_ parameters: inout [Float], gradient: [Float], lr: Float) {
        precondition(parameters.count == gradient.count, "gradient and parameters differ in size")
        if firstMoment.isEmpty {
            firstMoment = [Float](repeating: 0, count: parameters.count)
            if kind == .adamw { secondMoment = firstMoment }
        }
        step += 1
        switch kind {
        case .sgd:
            for i in parameters.indices {
                let g = gradient[i] + weightDecay * parameters[i]
                // PyTorch starts the momentum buffer at the first gradient itself.
                firstMoment[i] = step == 1 ? g : momentum * firstMoment[i] + g
                parameters[i] -= lr * (momentum == 0 ? g : firstMoment[i])
            }
        case .adamw:
            let correction1 = 1 - pow(beta1, Float(step)), correction2 = 1 - pow(beta2, Float(step))
            let stepSize = lr / correction1
            let root2 = correction2.squareRoot()
            for i in parameters.indices {
                parameters[i] *= 1 - lr * weightDecay
                let g = gradient[i]
                firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g
                secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g
                parameters[i] -= stepSize * firstMoment[i] / (secondMoment[i].squareRoot() / root2 + eps)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
