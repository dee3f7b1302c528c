/// What the API reports about a dataset: sizes, per-class counts and groups, and warnings.
public struct DatasetSummary: Sendable, Codable, Equatable {
    /// One class's line in the summary.
    public struct ClassEntry: Sendable, Codable, Equatable {
        /// The class name.
        public var name: String
        /// Number of images showing the class.
        public var count: Int
        /// Its head / medium / tail group by `count`.
        public var group: ClassGroup
    }

    /// Number of images.
    public var imageCount: Int
    /// Number of images that came with a caption (the rest get one composed from their labels).
    public var captionedImageCount: Int
    /// Total of all labels over all images.
    public var labelCount: Int
    /// Classes in class order.
    public var classes: [ClassEntry]
    /// Number of classes in each group.
    public var groupSizes: ClassGroupSizes
    /// The bounds the groups were drawn with.
    public var bounds: ClassGroupBounds
    /// Warnings (such as classes without images).
    public var warnings: [DatasetProblem]

    /// The summary of `annotations` under `bounds`.
    public init(annotations: DatasetAnnotations, bounds: ClassGroupBounds = .default,
                warnings: [DatasetProblem] = []) {
        let counts = annotations.classCounts
        let groups = bounds.groups(of: counts)
        imageCount = annotations.items.count
        captionedImageCount = annotations.items.reduce(0) { $0 + ($1.caption == nil ? 0 : 1) }
        labelCount = counts.reduce(0, +)
        classes = annotations.classes.indices.map {
            ClassEntry(name: annotations.classes[$0], count: counts[$0], group: groups[$0])
        }
        groupSizes = ClassGroupSizes(groups)
        self.bounds = bounds
        self.warnings = warnings
    }

    private enum CodingKeys: String, CodingKey {
        case imageCount = "image_count"
        case captionedImageCount = "captioned_image_count"
        case labelCount = "label_count"
        case classes
        case groupSizes = "group_sizes"
        case bounds
        case warnings
    }
}
