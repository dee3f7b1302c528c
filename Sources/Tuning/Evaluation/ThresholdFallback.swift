/// The threshold given to a class whose validation images hold no positive, where F1 cannot
/// choose one (every threshold scores 0).
public enum ThresholdFallback: Sendable, Equatable, Codable {
    /// The single threshold that maximises F1 over all validation decisions of all classes
    /// pooled (overall F1), chosen as for one class; sensible when scores are comparable
    /// across classes (e.g. calibrated probabilities).
    case globalBestF1
    /// A fixed threshold, in the scores' scale.
    case fixed(Float)

    enum CodingKeys: String, CodingKey { case kind, threshold }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .kind) {
        case "global_best_f1": self = .globalBestF1
        case "fixed": self = .fixed(try container.decode(Float.self, forKey: .threshold))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "unknown threshold fallback \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .globalBestF1:
            try container.encode("global_best_f1", forKey: .kind)
        case .fixed(let threshold):
            try container.encode("fixed", forKey: .kind)
            try container.encode(threshold, forKey: .threshold)
        }
    }
}
