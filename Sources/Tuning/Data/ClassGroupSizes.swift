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
