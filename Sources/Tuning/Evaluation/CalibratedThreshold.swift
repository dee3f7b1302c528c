/// One class's threshold as calibration chose it, with what it did on the validation split.
public struct CalibratedThreshold: Codable, Sendable, Equatable {
    /// The threshold, in the scores' scale (`score >= threshold` predicts the class).
    public let threshold: Float
    /// Whether it came from the fallback because the class had no validation positive.
    public let isFallback: Bool
    /// The class's positive validation images.
    public let validationPositives: Int
    /// F1 of the threshold's decisions on the validation split; `nil` without positives.
    public let validationF1: Double?

    /// A class's calibration outcome.
    public init(threshold: Float, isFallback: Bool, validationPositives: Int, validationF1: Double?) {
        self.threshold = threshold
        self.isFallback = isFallback
        self.validationPositives = validationPositives
        self.validationF1 = validationF1
    }

    enum CodingKeys: String, CodingKey {
        case threshold
        case isFallback = "is_fallback"
        case validationPositives = "validation_positives"
        case validationF1 = "validation_f1"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(isFallback, forKey: .isFallback)
        try container.encode(validationPositives, forKey: .validationPositives)
        try container.encode(validationF1, forKey: .validationF1)  // null, not absent
    }
}
