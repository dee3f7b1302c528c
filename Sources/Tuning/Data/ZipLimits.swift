/// Bounds on a zip dataset, checked from its central directory before anything is inflated,
/// and again while inflating (a header may lie about sizes): the defences against zip bombs.
public struct ZipLimits: Sendable, Equatable, Codable {
    /// Most entries (files and folders).
    public var maximumEntryCount: Int
    /// Most bytes all entries inflate to together.
    public var maximumTotalUncompressedBytes: UInt64
    /// Highest uncompressed / compressed ratio of an entry, or of the whole archive.
    public var maximumCompressionRatio: Double
    /// Entries and archives smaller than this when inflated are exempt from the ratio check
    /// (tiny text files compress well and cannot bomb anyone).
    public var ratioCheckMinimumBytes: UInt64

    /// Limits from explicit values.
    public init(maximumEntryCount: Int, maximumTotalUncompressedBytes: UInt64,
                maximumCompressionRatio: Double, ratioCheckMinimumBytes: UInt64 = 1 << 20) {
        self.maximumEntryCount = maximumEntryCount
        self.maximumTotalUncompressedBytes = maximumTotalUncompressedBytes
        self.maximumCompressionRatio = maximumCompressionRatio
        self.ratioCheckMinimumBytes = ratioCheckMinimumBytes
    }

    /// 1,000,000 entries, 64 GiB inflated, ratio 100 (JPEG and PNG barely compress; bombs reach 1000).
    public static let `default` = ZipLimits(maximumEntryCount: 1_000_000,
                                            maximumTotalUncompressedBytes: 64 << 30,
                                            maximumCompressionRatio: 100)

    private enum CodingKeys: String, CodingKey {
        case maximumEntryCount = "maximum_entry_count"
        case maximumTotalUncompressedBytes = "maximum_total_uncompressed_bytes"
        case maximumCompressionRatio = "maximum_compression_ratio"
        case ratioCheckMinimumBytes = "ratio_check_minimum_bytes"
    }
}
