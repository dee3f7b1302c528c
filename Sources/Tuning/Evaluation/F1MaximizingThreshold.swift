/// The threshold of one ranking whose decision `score >= threshold` has the highest F1.
///
/// Candidates are the distinct scores: predicting the top k steps. Among equal best F1s
/// (compared exactly, on integer counts) the highest threshold wins, i.e. the fewest
/// predictions. The threshold returned is the midpoint between the chosen step's score and
/// the next lower distinct score, so that unseen scores near either are not decided by a
/// hair's breadth; every value in (next lower, chosen] makes the same validation decisions.
/// When the chosen step is the lowest score (predict everything), there is no lower score
/// and the threshold is that score itself.
struct F1MaximizingThreshold {
    /// The threshold, in the scores' scale.
    let threshold: Float
    /// F1 of the decisions it makes on the ranking it was found on.
    let f1: Double

    /// The best threshold of `steps`, `nil` when the ranking has no positive (every F1 is 0).
    init?(_ steps: ScoreSteps) {
        let positives = steps.positives
        guard positives > 0 else { return nil }
        // F1 at step k = 2·TPₖ / (predictedₖ + positives); compare TP / denominator exactly.
        var best = 0
        for k in steps.scores.indices.dropFirst() {
            let (tp, denominator) = (steps.truePositives[k], steps.predicted[k] + positives)
            let (bestTP, bestDenominator) = (steps.truePositives[best], steps.predicted[best] + positives)
            if tp * bestDenominator > bestTP * denominator { best = k }
        }
        let upper = steps.scores[best]
        threshold = best + 1 < steps.scores.count ? Self.midpoint(upper, above: steps.scores[best + 1]) : upper
        f1 = 2 * Double(steps.truePositives[best]) / Double(steps.predicted[best] + positives)
    }

    /// A value in (lower, upper], the midpoint where Float can hold it (else `upper`, e.g. when
    /// the two are adjacent floats or the midpoint of ±infinity is undefined).
    static func midpoint(_ upper: Float, above lower: Float) -> Float {
        let middle = Float((Double(upper) + Double(lower)) / 2)
        return middle > lower && middle <= upper ? middle : upper
    }
}
