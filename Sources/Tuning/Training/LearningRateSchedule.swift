/// How the learning rate changes over epochs.
public enum LearningRateScheduleKind: String, Sendable, Codable, CaseIterable {
    case constant, cosine, plateau
}

/// Learning rate by epoch: constant; cosine annealing to `minimum` over `epochs`
/// (`CosineAnnealingLR`); or `ReduceLROnPlateau(mode="max")` on validation mAP — multiply by
/// `factor` after more than `patience` epochs without a relative improvement of `threshold`
/// (PyTorch's defaults: factor 0.1, threshold 1e-4, rel mode).
public struct LearningRateSchedule: Sendable, Codable {
    public let kind: LearningRateScheduleKind
    public let base: Float
    public var epochs: Int
    public var minimum: Float = 0
    public var factor: Float = 0.1
    public var patience: Int = 5
    public var threshold: Float = 1e-4
    public private(set) var current: Float
    /// No metric yet: the lowest finite Float (JSON has no −∞, and checkpoints hold the schedule).
    public private(set) var best: Float = -.greatestFiniteMagnitude
    public private(set) var badEpochs = 0

    public init(kind: LearningRateScheduleKind, base: Float, epochs: Int) {
        self.kind = kind
        self.base = base
        self.epochs = epochs
        current = base
    }

    /// The rate for an epoch (0-based) under the cosine and constant schedules.
    public func rate(epoch: Int) -> Float {
        switch kind {
        case .constant, .plateau: return current
        case .cosine:
            let progress = Float(min(epoch, epochs)) / Float(max(epochs, 1))
            return minimum + (base - minimum) * (1 + cos(Float.pi * progress)) / 2
        }
    }

    /// Records an epoch's validation metric (higher is better); under `plateau` this may lower the rate.
    /// Returns true when the metric is the best so far.
    @discardableResult
    public mutating func record(metric: Float) -> Bool {
        let improved = best == -.greatestFiniteMagnitude || metric > best * (1 + threshold)
        if improved {
            best = metric
            badEpochs = 0
        } else {
            badEpochs += 1
            if kind == .plateau && badEpochs > patience {
                current = max(current * factor, minimum)
                badEpochs = 0
            }
        }
        return improved
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
