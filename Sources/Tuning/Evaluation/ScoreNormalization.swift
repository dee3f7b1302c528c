import Foundation

/// A per-image shift of an image's C logits before they are thresholded, a calibration choice
/// made on held-out scores: it changes how images rank within a class (so mAP), never how
/// classes rank within an image. `centred` subtracts the image's mean logit; `log_softmax`
/// subtracts its log-sum-exp, which makes sigmoid(z − θ) a threshold on the softmax over
/// classes (the official LMPT code's scores).
public enum ScoreNormalization: String, Sendable, Codable, CaseIterable {
    case none
    case centred
    case logSoftmax = "log_softmax"

    /// Shifts each row of `logits` [N, C] in place.
    public func apply(to logits: inout [Float], classes: Int) {
        guard self != .none, classes > 0 else { return }
        for r in 0..<(logits.count / classes) {
            let row = r * classes
            var shift: Float = 0
            switch self {
            case .none: break
            case .centred:
                for k in 0..<classes { shift += logits[row + k] }
                shift /= Float(classes)
            case .logSoftmax:
                var top = -Float.infinity
                for k in 0..<classes { top = max(top, logits[row + k]) }
                var sum: Float = 0
                for k in 0..<classes { sum += exp(logits[row + k] - top) }
                shift = top + log(sum)
            }
            for k in 0..<classes { logits[row + k] -= shift }
        }
    }
}
