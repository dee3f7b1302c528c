import Compute

/// The class features a prompt set serves: the tuned ones blended with the hand-written prompt's,
/// t = normalise((1 − α)·t̂ + α·ẑ) per class (t̂, ẑ unit rows). α 0 serves the tuned prompt, α 1
/// the zero-shot one. Like WiSE-FT's weight-space ensembling, the blend keeps what the
/// hand-written prompt knows about classes that few images can teach; it is a calibration choice
/// made with the per-image normalisation on held-out scores (`ServedScoring.best`), never on test.
public enum ZeroShotBlend {
    /// The weights `auto` chooses from.
    public static let weights: [Float] = [0, 0.25, 0.5, 0.75, 1]

    /// Blended unit class features [C, D] from raw (or unit) tuned features and unit zero-shot ones.
    public static func features(tuned: [Float], zeroShot: [Float], weight: Float, dimension: Int) -> [Float] {
        precondition(tuned.count == zeroShot.count && dimension > 0 && tuned.count % dimension == 0)
        let unit = L2Normalize.rows(tuned, width: dimension)
        guard weight > 0 else { return unit }
        var mixed = [Float](repeating: 0, count: unit.count)
        for i in unit.indices { mixed[i] = (1 - weight) * unit[i] + weight * zeroShot[i] }
        return L2Normalize.rows(mixed, width: dimension)
    }
}

/// What is served from held-out logits: which zero-shot blend weight and which per-image
/// normalisation, chosen together by the selection score on the held-out images.
public struct ServedScoring: Sendable {
    public let zeroShotWeight: Float
    public let normalization: ScoreNormalization
    public let score: SelectionScore
    /// The chosen blend's held-out logits, before the normalisation.
    public let logits: [Float]
    /// Every pair tried, in the order tried.
    public let tried: [(zeroShotWeight: Float, normalization: ScoreNormalization, score: SelectionScore)]

    /// `heldOut`: the held-out logits [M, C] for each blend weight (the first, weight 0, is the
    /// tuned prompt's). The highest score wins; ties keep the earlier pair (less blend, `none` first),
    /// so a blend or a normalisation is served only when it ranks better.
    public static func best(heldOut: [(zeroShotWeight: Float, logits: [Float])], labels: [Float], classes: Int,
                            groups: [ClassGroup]) throws -> ServedScoring {
        precondition(!heldOut.isEmpty)
        var tried: [(zeroShotWeight: Float, normalization: ScoreNormalization, score: SelectionScore)] = []
        var best = 0, bestLogits = heldOut[0].logits
        for (weight, logits) in heldOut {
            for kind in ScoreNormalization.allCases {
                var shifted = logits
                kind.apply(to: &shifted, classes: classes)
                tried.append((weight, kind, try SelectionScore(scores: shifted, labels: labels, classes: classes, groups: groups)))
                if tried.last!.score.value > tried[best].score.value + 1e-9 { best = tried.count - 1; bestLogits = logits }
            }
        }
        return ServedScoring(zeroShotWeight: tried[best].zeroShotWeight, normalization: tried[best].normalization,
                             score: tried[best].score, logits: bestLogits, tried: tried)
    }
}
