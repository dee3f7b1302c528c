/// One class's row of an `EvaluationReport`; metrics in percent, like the report's.
public struct ClassEvaluation: Codable, Sendable, Equatable {
    /// The class's name.
    public let className: String
    /// Average precision in percent; `nil` when the evaluated set has no positive of the class.
    public let ap: Double?
    /// Training images of the class, which decide its group.
    public let trainingCount: Int
    /// Head, medium or tail, from the training count.
    public let group: ClassGroup
    /// The decision threshold, in the scores' own scale.
    public let threshold: Float
    /// Precision at the threshold in percent (0 when nothing is predicted).
    public let precision: Double
    /// Recall at the threshold in percent; `nil` without positives.
    public let recall: Double?
    /// F1 at the threshold in percent; `nil` without positives.
    public let f1: Double?
    /// Positive images of the class in the evaluated set.
    public let positives: Int
    /// Whether the class counts in mAP and CP/CR: false exactly when it has no positive.
    public let includedInMap: Bool

    /// A row from its values.
    public init(
        className: String, ap: Double?, trainingCount: Int, group: ClassGroup, threshold: Float,
        precision: Double, recall: Double?, f1: Double?, positives: Int, includedInMap: Bool
    ) {
        self.className = className
        self.ap = ap
        self.trainingCount = trainingCount
        self.group = group
        self.threshold = threshold
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.positives = positives
        self.includedInMap = includedInMap
    }

    enum CodingKeys: String, CodingKey {
        case className = "class"
        case ap
        case trainingCount = "count"
        case group, threshold, precision, recall, f1, positives
        case includedInMap = "included_in_map"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(className, forKey: .className)
        try container.encode(ap, forKey: .ap)  // optionals as null, not absent
        try container.encode(trainingCount, forKey: .trainingCount)
        try container.encode(group, forKey: .group)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(precision, forKey: .precision)
        try container.encode(recall, forKey: .recall)
        try container.encode(f1, forKey: .f1)
        try container.encode(positives, forKey: .positives)
        try container.encode(includedInMap, forKey: .includedInMap)
    }
}
