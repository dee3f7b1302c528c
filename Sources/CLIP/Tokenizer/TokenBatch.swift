/// Token ids of several texts, padded with 0 to a common length (open_clip's tensor layout).
public struct TokenBatch: Sendable, Equatable {
    /// Row-major [count × contextLength] ids: start token, ids, end token, then 0.
    public let ids: [Int32]
    /// The number of ids before the padding in each row (the end token's index + 1).
    public let lengths: [Int]
    /// Ids per row.
    public let contextLength: Int

    /// Number of rows (texts).
    public var count: Int { lengths.count }

    /// The unpadded ids of row `index`.
    public func row(_ index: Int) -> ArraySlice<Int32> {
        ids[index * contextLength..<index * contextLength + lengths[index]]
    }
}
