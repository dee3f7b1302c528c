/// One class's decisions at its threshold (`score >= threshold` predicts the class) against
/// the ground truth, and the precision, recall and F1 they give (fractions in [0, 1]).
public struct ClassDecisionMetrics: Codable, Sendable, Equatable {
    /// The class's threshold, in the scores' own scale.
    public let threshold: Float
    /// Images predicted and positive.
    public let truePositives: Int
    /// Images predicted but negative.
    public let falsePositives: Int
    /// Images positive in the ground truth.
    public let positives: Int

    /// Positive images not predicted.
    public var falseNegatives: Int { positives - truePositives }
    /// Images predicted.
    public var predicted: Int { truePositives + falsePositives }

    /// TP / (TP + FP); 0 when nothing is predicted (sklearn's `zero_division=0`, ML-GCN's convention).
    public var precision: Double { predicted == 0 ? 0 : Double(truePositives) / Double(predicted) }
    /// TP / positives; `nil` when the class has no positive.
    public var recall: Double? { positives == 0 ? nil : Double(truePositives) / Double(positives) }
    /// 2PR / (P + R) = 2TP / (2TP + FP + FN); 0 when TP = 0, `nil` when the class has no positive.
    public var f1: Double? {
        positives == 0 ? nil : 2 * Double(truePositives) / Double(predicted + positives)
    }

    /// Metrics from the counts of one class's decisions.
    public init(threshold: Float, truePositives: Int, falsePositives: Int, positives: Int) {
        self.threshold = threshold
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.positives = positives
    }

    enum CodingKeys: String, CodingKey {
        case threshold, precision, recall, f1, positives
        case truePositives = "true_positives"
        case falsePositives = "false_positives"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            threshold: try container.decode(Float.self, forKey: .threshold),
            truePositives: try container.decode(Int.self, forKey: .truePositives),
            falsePositives: try container.decode(Int.self, forKey: .falsePositives),
            positives: try container.decode(Int.self, forKey: .positives))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(truePositives, forKey: .truePositives)
        try container.encode(falsePositives, forKey: .falsePositives)
        try container.encode(positives, forKey: .positives)
        try container.encode(precision, forKey: .precision)
        try container.encode(recall, forKey: .recall)
        try container.encode(f1, forKey: .f1)
    }
}
