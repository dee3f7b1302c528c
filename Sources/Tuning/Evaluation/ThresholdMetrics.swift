/// Multi-label precision, recall and F1 at per-class thresholds (`score >= threshold`
/// predicts the class), per class and averaged the two ways the multi-label literature
/// reports (ML-GCN, ASL, …), as fractions in [0, 1]:
///
/// - per-class averages: CP = mean of per-class precision, CR = mean of per-class recall,
///   CF1 = 2·CP·CR / (CP + CR) (the F1 of the averages, not the average F1);
/// - overall, over all image–class decisions pooled: OP = ΣTP / Σpredicted,
///   OR = ΣTP / Σpositives, OF1 = 2·OP·OR / (OP + OR) (sklearn's `average="micro"`).
///
/// Precision is 0 where nothing is predicted. Classes without a positive are left out of
/// CP and CR (their recall is undefined, as they are left out of mAP) but their false
/// positives still count in OP. An F1 whose P + R is 0 is 0.
public struct ThresholdMetrics: Codable, Sendable, Equatable {
    /// Counts and metrics of every class.
    public let perClass: [ClassDecisionMetrics]
    /// Per-class precision averaged over the classes with a positive.
    public let cp: Double
    /// Per-class recall averaged over the classes with a positive.
    public let cr: Double
    /// 2·CP·CR / (CP + CR).
    public let cf1: Double
    /// Precision over all decisions.
    public let op: Double
    /// Recall over all decisions.
    public let or: Double
    /// 2·OP·OR / (OP + OR).
    public let of1: Double

    /// Decides every class of `data` at its threshold (one per class, not NaN) and scores the
    /// decisions; throws if no class has a positive, as nothing can then be measured.
    public init(_ data: LabeledScores, thresholds: [Float]) throws {
        guard thresholds.count == data.classCount else {
            throw TuningError.invalidArgument("\(thresholds.count) thresholds for \(data.classCount) classes")
        }
        if let bad = thresholds.firstIndex(where: { $0.isNaN }) {
            throw TuningError.invalidArgument("threshold of class \(bad) is NaN")
        }
        let classes = data.classCount
        var truePositives = [Int](repeating: 0, count: classes)
        var falsePositives = [Int](repeating: 0, count: classes)
        var positives = [Int](repeating: 0, count: classes)
        for image in 0..<data.imageCount {
            for c in 0..<classes {
                let isPositive = data.labels[image * classes + c]
                let isPredicted = data.scores[image * classes + c] >= thresholds[c]
                if isPositive { positives[c] += 1 }
                if isPredicted { if isPositive { truePositives[c] += 1 } else { falsePositives[c] += 1 } }
            }
        }
        try self.init(perClass: (0..<classes).map {
            ClassDecisionMetrics(
                threshold: thresholds[$0], truePositives: truePositives[$0],
                falsePositives: falsePositives[$0], positives: positives[$0])
        })
    }

    /// The averages of given per-class decisions; throws if no class has a positive.
    public init(perClass: [ClassDecisionMetrics]) throws {
        let measured = perClass.filter { $0.positives > 0 }
        guard !measured.isEmpty else {
            throw TuningError.invalidArgument("no class has a positive image, so precision and recall are undefined")
        }
        self.perClass = perClass
        cp = measured.reduce(0) { $0 + $1.precision } / Double(measured.count)
        cr = measured.reduce(0) { $0 + ($1.recall ?? 0) } / Double(measured.count)
        cf1 = Self.harmonicMean(cp, cr)
        let truePositives = perClass.reduce(0) { $0 + $1.truePositives }
        let predicted = perClass.reduce(0) { $0 + $1.predicted }
        op = predicted == 0 ? 0 : Double(truePositives) / Double(predicted)
        or = Double(truePositives) / Double(measured.reduce(0) { $0 + $1.positives })
        of1 = Self.harmonicMean(op, or)
    }

    /// 2ab / (a + b), 0 when a + b = 0.
    static func harmonicMean(_ a: Double, _ b: Double) -> Double { a + b == 0 ? 0 : 2 * a * b / (a + b) }

    enum CodingKeys: String, CodingKey {
        case perClass = "per_class"
        case cp, cr, cf1, op, or, of1
    }
}
