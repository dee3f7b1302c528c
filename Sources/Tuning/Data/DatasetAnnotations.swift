/// A dataset's labels without its images: the class names and, per image, its path, labels and caption.
/// Every value of this type is valid (unique class names, labels in range, unique safe paths).
public struct DatasetAnnotations: Sendable, Codable, Equatable {
    /// Class names in class order (index `i` is label `i`).
    public let classes: [String]
    /// The images, in manifest order.
    public let items: [DatasetItem]

    /// Checked annotations; throws every problem found (items are named by their 1-based position).
    public init(classes: [String], items: [DatasetItem], allowsEmptyLabelSets: Bool = false,
                maximumProblems: Int = 100) throws(DatasetValidationError) {
        var problems = DatasetProblemCollector(maximum: maximumProblems)
        Self.check(classes: classes, items: items, allowsEmptyLabelSets: allowsEmptyLabelSets,
                   problems: &problems)
        try problems.throwIfProblems()
        self.init(unchecked: classes, items: items)
    }

    /// Annotations already checked by a parser.
    init(unchecked classes: [String], items: [DatasetItem]) {
        self.classes = classes
        self.items = items
    }

    /// Number of images showing each class, in class order.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes.count)
        for item in items {
            for label in item.labels { counts[label] += 1 }
        }
        return counts
    }

    /// The item's caption, or one composed from its labels when it has none.
    public func caption(of item: DatasetItem) -> String {
        item.caption ?? CaptionComposer.caption(for: item.labels.map { classes[$0] })
    }

    /// The same images with only the items at `indices` (in that order).
    public func subset(_ indices: [Int]) -> DatasetAnnotations {
        DatasetAnnotations(unchecked: classes, items: indices.map { items[$0] })
    }

    /// Decodes and checks the annotations (empty label sets allowed, as evaluation sets have them).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(classes: container.decode([String].self, forKey: .classes),
                      items: container.decode([DatasetItem].self, forKey: .items),
                      allowsEmptyLabelSets: true)
    }

    /// Records every rule the values break; `line(i)` names where item `i` came from.
    static func check(classes: [String], items: [DatasetItem], allowsEmptyLabelSets: Bool,
                      itemFile: String? = nil, line: (Int) -> Int = { $0 + 1 },
                      problems: inout DatasetProblemCollector) {
        var classPosition: [String: Int] = [:]
        for (index, name) in classes.enumerated() {
            if let message = ClassNameRules.problem(with: name) {
                problems.problem(file: ClassListParser.fileName, line: index + 1, field: name, message)
            }
            if let first = classPosition[name] {
                problems.problem(file: ClassListParser.fileName, line: index + 1, field: name,
                                 "duplicate class name (first on line \(first + 1))")
            } else {
                classPosition[name] = index
            }
        }
        if classes.isEmpty { problems.problem(file: ClassListParser.fileName, "no classes") }
        if items.isEmpty { problems.problem(file: itemFile, "no items") }
        var firstItemOfImage: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let place = (file: itemFile, line: line(index))
            switch DatasetRelativePath.normalise(item.image) {
            case .success(let path) where path == item.image:
                if let first = firstItemOfImage[path] {
                    problems.problem(file: place.file, line: place.line, field: "image",
                                     "duplicate image entry '\(path)' (first on line \(line(first)))")
                } else {
                    firstItemOfImage[path] = index
                }
            case .success(let path):
                problems.problem(file: place.file, line: place.line, field: "image",
                                 "path '\(item.image)' is not normalised; write '\(path)'")
            case .failure(let reason):
                problems.problem(file: place.file, line: place.line, field: "image", "\(reason): '\(item.image)'")
            }
            var seen = Set<Int>()
            for (position, label) in item.labels.enumerated() {
                let field = "labels[\(position)]"
                if !classes.indices.contains(label) {
                    problems.problem(file: place.file, line: place.line, field: field,
                                     "label index \(label) is outside 0..<\(classes.count)")
                } else if !seen.insert(label).inserted {
                    problems.problem(file: place.file, line: place.line, field: field,
                                     "duplicate label '\(classes[label])'")
                }
            }
            if item.labels.isEmpty, !allowsEmptyLabelSets {
                problems.problem(file: place.file, line: place.line, field: "labels",
                                 "empty label set; every image needs at least one label")
            }
            if let caption = item.caption, caption.allSatisfy(\.isWhitespace) {
                problems.problem(file: place.file, line: place.line, field: "caption",
                                 "empty caption; leave it out when there is none")
            }
        }
    }
}

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
