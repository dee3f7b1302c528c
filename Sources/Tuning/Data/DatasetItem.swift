/// One image of a dataset: where it is, which classes it shows, and its caption if it has one.
public struct DatasetItem: Sendable, Codable, Equatable, Hashable {
    /// Path of the image relative to the dataset root, normalised (`/`-separated, no `.` or `..`).
    public var image: String
    /// Indices into the dataset's classes, in the order the labels were listed, without repeats.
    public var labels: [Int]
    /// The caption given with the image, if any (see `CaptionComposer` for one made from labels).
    public var caption: String?

    /// An item from its parts.
    public init(image: String, labels: [Int], caption: String? = nil) {
        self.image = image
        self.labels = labels
        self.caption = caption
    }
}
