/// Average precision exactly as sklearn's `average_precision_score`: the non-interpolated
/// area under the precision–recall steps, AP = Σₖ (Rₖ − Rₖ₋₁) · Pₖ over the distinct scores
/// from highest to lowest, with tied scores entering together as one step.
///
/// Equivalently, the mean over positives of the precision at that positive's score.
/// A ranking without positives has no AP here (`nil`): recall is undefined, and sklearn's
/// 0 (1.9, with a warning; other versions differ) would drag a mean down for no reason.
public enum AveragePrecision {
    /// AP of one ranking, `nil` when no label is positive.
    public static func of(scores: [Float], labels: [Bool]) throws -> Double? {
        guard scores.count == labels.count else {
            throw TuningError.invalidArgument("\(scores.count) scores but \(labels.count) labels")
        }
        if let bad = scores.firstIndex(where: { $0.isNaN }) {
            throw TuningError.invalidArgument("score \(bad) is NaN")
        }
        return of(ScoreSteps(count: scores.count, score: { scores[$0] }, label: { labels[$0] }))
    }

    /// AP of every class (column), `nil` for classes without a positive.
    public static func perClass(_ data: LabeledScores) -> [Double?] {
        let classes = data.classCount
        return data.scores.withUnsafeBufferPointer { scores in
            data.labels.withUnsafeBufferPointer { labels in
                (0..<classes).map { c in
                    of(ScoreSteps(
                        count: data.imageCount,
                        score: { scores[$0 * classes + c] },
                        label: { labels[$0 * classes + c] }))
                }
            }
        }
    }

    static func of(_ steps: ScoreSteps) -> Double? {
        let positives = steps.positives
        guard positives > 0 else { return nil }
        var sum = 0.0
        var previousTruePositives = 0
        for k in steps.scores.indices where steps.truePositives[k] != previousTruePositives {
            let truePositives = steps.truePositives[k]
            sum += Double(truePositives - previousTruePositives) * Double(truePositives) / Double(steps.predicted[k])
            previousTruePositives = truePositives
        }
        return sum / Double(positives)
    }
}
