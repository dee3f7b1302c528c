import Foundation

/// A validated dataset ready for training or evaluation: classes, items, class counts, and access
/// to each image's bytes (from its folder or zip). Only `DatasetLoader`, `LMPTListImporter` and
/// `DatasetSplitter` make one, and only after every check passed.
public struct Dataset: Sendable {
    /// Class names, labels and captions.
    public let annotations: DatasetAnnotations
    /// Number of items showing each class, in class order.
    public let classCounts: [Int]
    /// Things worth knowing that did not refuse the dataset (such as classes without images).
    public let warnings: [DatasetProblem]
    /// Where the images are read from.
    let source: DatasetImageSource
    /// Largest image file read, the decode limit the dataset was checked with.
    let maximumImageBytes: Int

    /// A dataset from checked parts; `classFile` is the file class warnings point into.
    init(annotations: DatasetAnnotations, source: DatasetImageSource, maximumImageBytes: Int,
         classFile: String = ClassListParser.fileName) {
        self.annotations = annotations
        self.classCounts = annotations.classCounts
        self.source = source
        self.maximumImageBytes = maximumImageBytes
        self.warnings = Self.emptyClassWarnings(classes: annotations.classes, counts: classCounts, file: classFile)
    }

    /// Class names in class order.
    public var classes: [String] { annotations.classes }
    /// The images, in manifest order.
    public var items: [DatasetItem] { annotations.items }
    /// The folder or zip file the images are read from.
    public var location: URL { source.location }

    /// The encoded bytes (JPEG or PNG) of item `index`'s image.
    public func imageBytes(at index: Int) throws(TuningError) -> [UInt8] {
        guard items.indices.contains(index) else {
            throw .invalidArgument("item \(index) is outside 0..<\(items.count)")
        }
        return [UInt8](try source.read(items[index].image, maximumBytes: maximumImageBytes))
    }

    /// Item `index`'s caption, or one composed from its labels when it has none.
    public func caption(at index: Int) -> String {
        annotations.caption(of: items[index])
    }

    /// Each class's head / medium / tail group by its count in this dataset (use the training set's).
    public func classGroups(bounds: ClassGroupBounds = .default) -> [ClassGroup] {
        bounds.groups(of: classCounts)
    }

    /// Counts, groups and warnings, as the API reports them.
    public func summary(bounds: ClassGroupBounds = .default) -> DatasetSummary {
        DatasetSummary(annotations: annotations, bounds: bounds, warnings: warnings)
    }

    /// The same classes and image source with only the items at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        Dataset(annotations: annotations.subset(indices), source: source, maximumImageBytes: maximumImageBytes)
    }

    /// The same items with labels renumbered to `newClasses`, a reordering of `classes`.
    func reordered(to newClasses: [String]) -> Dataset {
        var newIndex: [String: Int] = [:]
        for (index, name) in newClasses.enumerated() { newIndex[name] = index }
        let items = annotations.items.map { item in
            DatasetItem(image: item.image, labels: item.labels.map { newIndex[classes[$0]]! }, caption: item.caption)
        }
        return Dataset(annotations: DatasetAnnotations(unchecked: newClasses, items: items), source: source,
                       maximumImageBytes: maximumImageBytes)
    }

    /// A warning for each class no image shows: it cannot be learned, and its AP is undefined.
    static func emptyClassWarnings(classes: [String], counts: [Int],
                                   file: String = ClassListParser.fileName) -> [DatasetProblem] {
        zip(classes.indices, counts).filter { $0.1 == 0 }.map { index, _ in
            DatasetProblem(file: file, line: index + 1, field: classes[index],
                           message: "class has no images")
        }
    }
}

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
