/// Scores of N images over C classes with their ground-truth labels, both row-major [N, C].
///
/// Scores may be any real values (probabilities, logits, similarities); only their order
/// and the thresholds compared with them matter. NaN is rejected because it has no place
/// in a ranking; ±infinity ranks like any other value.
public struct LabeledScores: Sendable, Equatable {
    /// N, the number of images (rows).
    public let imageCount: Int
    /// C, the number of classes (columns).
    public let classCount: Int
    /// Row-major [N, C] scores: `scores[image * classCount + class]`.
    public let scores: [Float]
    /// Row-major [N, C] ground truth, `true` where the image shows the class.
    public let labels: [Bool]

    /// Wraps row-major [N, C] scores and labels, checking shapes and that no score is NaN.
    public init(imageCount: Int, classCount: Int, scores: [Float], labels: [Bool]) throws {
        guard imageCount >= 1, classCount >= 1 else {
            throw TuningError.invalidArgument(
                "evaluation needs at least one image and one class, got \(imageCount) × \(classCount)")
        }
        let (cells, overflow) = imageCount.multipliedReportingOverflow(by: classCount)
        guard !overflow, scores.count == cells, labels.count == cells else {
            throw TuningError.invalidArgument(
                "\(imageCount) images × \(classCount) classes need \(imageCount &* classCount) scores and labels, "
                    + "got \(scores.count) scores and \(labels.count) labels")
        }
        if let bad = scores.firstIndex(where: { $0.isNaN }) {
            throw TuningError.invalidArgument(
                "score of image \(bad / classCount), class \(bad % classCount) is NaN")
        }
        self.imageCount = imageCount
        self.classCount = classCount
        self.scores = scores
        self.labels = labels
    }

    /// Wraps one row of scores and one row of labels per image (all rows as long as the first).
    public init(scoreRows: [[Float]], labelRows: [[Bool]]) throws {
        guard scoreRows.count == labelRows.count else {
            throw TuningError.invalidArgument(
                "\(scoreRows.count) rows of scores but \(labelRows.count) rows of labels")
        }
        let classCount = scoreRows.first?.count ?? 0
        for (row, (scores, labels)) in zip(scoreRows, labelRows).enumerated()
        where scores.count != classCount || labels.count != classCount {
            throw TuningError.invalidArgument(
                "row \(row) has \(scores.count) scores and \(labels.count) labels, expected \(classCount) of each")
        }
        try self.init(
            imageCount: scoreRows.count, classCount: classCount,
            scores: scoreRows.flatMap { $0 }, labels: labelRows.flatMap { $0 })
    }

    /// The score of `image` for class `classIndex`.
    public func score(image: Int, classIndex: Int) -> Float { scores[image * classCount + classIndex] }

    /// Whether `image` shows class `classIndex`.
    public func label(image: Int, classIndex: Int) -> Bool { labels[image * classCount + classIndex] }

    /// Positive images per class.
    public func positiveCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for (cell, isPositive) in labels.enumerated() where isPositive { counts[cell % classCount] += 1 }
        return counts
    }
}
