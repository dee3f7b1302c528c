/// Per-class average precision and its mean over classes (fractions in [0, 1]).
///
/// Classes without a positive in the evaluated set have no AP (`nil`) and are left out of
/// every mean; `excludedClasses` lists them.
public struct MeanAveragePrecision: Codable, Sendable, Equatable {
    /// AP of every class, `nil` where the class has no positive.
    public let perClass: [Double?]
    /// Mean AP over the classes with a positive; `nil` if none has one.
    public let map: Double?

    /// APs of every class of `data` and their mean.
    public init(_ data: LabeledScores) {
        self.init(perClass: AveragePrecision.perClass(data))
    }

    /// The mean of given per-class APs (`nil` = no positive, left out).
    public init(perClass: [Double?]) {
        self.perClass = perClass
        self.map = Self.mean(perClass)
    }

    /// Classes left out of the means because they have no positive.
    public var excludedClasses: [Int] { perClass.indices.filter { perClass[$0] == nil } }

    /// Mean AP over `classes`, leaving out those without a positive; `nil` if none remains.
    public func mean(over classes: some Sequence<Int>) -> Double? {
        Self.mean(classes.map { perClass[$0] })
    }

    /// Mean AP over the classes of `group`, `groups` giving each class's group.
    public func mean(of group: ClassGroup, groups: [ClassGroup]) throws -> Double? {
        guard groups.count == perClass.count else {
            throw TuningError.invalidArgument("\(groups.count) class groups for \(perClass.count) classes")
        }
        return mean(over: groups.indices.filter { groups[$0] == group })
    }

    private static func mean(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        return present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
    }

    enum CodingKeys: String, CodingKey {
        case perClass = "per_class"
        case map
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(perClass: try container.decode([Double?].self, forKey: .perClass))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(map, forKey: .map)  // null, not absent, when undefined
        try container.encode(perClass, forKey: .perClass)
    }
}
