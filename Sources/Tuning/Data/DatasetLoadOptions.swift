import Imaging

/// How much a dataset load checks, and the limits that keep a hostile upload harmless.
public struct DatasetLoadOptions: Sendable, Equatable {
    /// Decode every image once to prove it is a JPEG or PNG within `decodeLimits`. On by default;
    /// turn off for huge datasets whose images are known good (existence and size are still checked).
    public var decodesImages: Bool
    /// Limits an image must meet (encoded bytes, pixel count), as at tagging time.
    public var decodeLimits: DecodeLimits
    /// Accept images with no labels (all-negative examples, as in some evaluation sets).
    public var allowsEmptyLabelSets: Bool
    /// Most problems listed in an error (the total is always counted).
    public var maximumProblems: Int
    /// Most manifest lines.
    public var maximumItems: Int
    /// Most class names.
    public var maximumClasses: Int
    /// Largest `manifest.jsonl` or `classes.txt`, in bytes.
    public var maximumTextFileBytes: Int
    /// Limits on a zip dataset.
    public var zipLimits: ZipLimits

    /// Options with safe defaults: decode check on, 100 problems, a million items, 10,000 classes,
    /// 256 MiB text files.
    public init(decodesImages: Bool = true, decodeLimits: DecodeLimits = .default,
                allowsEmptyLabelSets: Bool = false, maximumProblems: Int = 100,
                maximumItems: Int = 1_000_000, maximumClasses: Int = 10_000,
                maximumTextFileBytes: Int = 256 << 20, zipLimits: ZipLimits = .default) {
        self.decodesImages = decodesImages
        self.decodeLimits = decodeLimits
        self.allowsEmptyLabelSets = allowsEmptyLabelSets
        self.maximumProblems = maximumProblems
        self.maximumItems = maximumItems
        self.maximumClasses = maximumClasses
        self.maximumTextFileBytes = maximumTextFileBytes
        self.zipLimits = zipLimits
    }
}
