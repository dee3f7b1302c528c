/// Where a class falls in a long-tailed distribution, by its number of training images.
public enum ClassGroup: String, Sendable, Codable, CaseIterable, Hashable {
    case head
    case medium
    case tail

    /// The group of a class with `count` training images under `bounds`.
    public init(trainingCount count: Int, bounds: ClassGroupBounds = .default) {
        if count >= bounds.headMinimum {
            self = .head
        } else if count >= bounds.mediumMinimum {
            self = .medium
        } else {
            self = .tail
        }
    }
}

/// Training-count bounds of the head / medium / tail groups (LMPT and DBL use 100 and 20).
public struct ClassGroupBounds: Sendable, Codable, Equatable, Hashable {
    /// Fewest training images of a head class.
    public let headMinimum: Int
    /// Fewest training images of a medium class; fewer make a tail class.
    public let mediumMinimum: Int

    /// Bounds from explicit values; needs 0 ≤ `mediumMinimum` ≤ `headMinimum`.
    public init(headMinimum: Int, mediumMinimum: Int) throws(TuningError) {
        guard mediumMinimum >= 0, headMinimum >= mediumMinimum else {
            throw .invalidArgument(
                "class group bounds need 0 <= medium minimum (\(mediumMinimum)) <= head minimum (\(headMinimum))")
        }
        self.headMinimum = headMinimum
        self.mediumMinimum = mediumMinimum
    }

    /// The papers' bounds: head ≥ 100, medium 20–99, tail < 20 training images.
    public static let `default` = try! ClassGroupBounds(headMinimum: 100, mediumMinimum: 20)

    /// Groups of classes with these training counts, in class order.
    public func groups(of counts: [Int]) -> [ClassGroup] {
        counts.map { ClassGroup(trainingCount: $0, bounds: self) }
    }

    private enum CodingKeys: String, CodingKey {
        case headMinimum = "head_minimum"
        case mediumMinimum = "medium_minimum"
    }

    /// Decodes and checks the bounds, so a configuration file cannot bypass the rule.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(headMinimum: container.decode(Int.self, forKey: .headMinimum),
                      mediumMinimum: container.decode(Int.self, forKey: .mediumMinimum))
    }
}

/// How many classes fall in each group, e.g. VOC-LT's 6 head, 6 medium and 8 tail classes.
public struct ClassGroupSizes: Sendable, Codable, Equatable, Hashable {
    /// Number of head classes.
    public var head: Int
    /// Number of medium classes.
    public var medium: Int
    /// Number of tail classes.
    public var tail: Int

    /// Sizes from explicit counts.
    public init(head: Int, medium: Int, tail: Int) {
        self.head = head
        self.medium = medium
        self.tail = tail
    }

    /// The sizes of a list of class groups.
    public init(_ groups: [ClassGroup]) {
        self.init(head: groups.filter { $0 == .head }.count, medium: groups.filter { $0 == .medium }.count,
                  tail: groups.filter { $0 == .tail }.count)
    }
}
