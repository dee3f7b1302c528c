import Foundation

/// The result of reading LMPT list files: annotations, a report, and the way to a training `Dataset`.
public struct LMPTImport: Sendable {
    /// Classes in id order and one item per list line, captions attached.
    public let annotations: DatasetAnnotations
    /// Counts of what was found (images without caption and the like).
    public let report: LMPTImportReport
    /// Warnings, such as classes that no listed image shows.
    public let warnings: [DatasetProblem]
    /// Name of the list file, which image problems point into.
    let listFileName: String
    /// The list line of each item.
    let lineNumbers: [Int]
    /// Name of the label file, which class warnings point into.
    let labelFileName: String

    /// A dataset whose images are the list's paths under `imageRoot` (the folder holding e.g. `VOCdevkit/`);
    /// every image must be there (and decode, unless `options` turns that off).
    public func dataset(imageRoot: URL, options: DatasetLoadOptions = DatasetLoadOptions())
        throws(DatasetValidationError) -> Dataset {
        var problems = DatasetProblemCollector(maximum: options.maximumProblems)
        guard let source = DatasetImageSource.folder(imageRoot) else {
            throw DatasetValidationError(DatasetProblem(
                file: imageRoot.lastPathComponent, message: "image root folder not found: \(imageRoot.path)"))
        }
        DatasetImageChecker.check(annotations.items, lineNumbers: lineNumbers, file: listFileName, source: source,
                                  options: options, problems: &problems)
        let dataset = Dataset(annotations: annotations, source: source,
                              maximumImageBytes: options.decodeLimits.maxEncodedBytes, classFile: labelFileName)
        for warning in dataset.warnings { problems.warning(warning) }
        try problems.throwIfProblems()
        return dataset
    }
}

/// What an LMPT list import found, beyond the annotations themselves.
public struct LMPTImportReport: Sendable, Codable, Equatable {
    /// Images in the list file.
    public var imageCount: Int
    /// Classes in the label file.
    public var classCount: Int
    /// Images listed with no label (kept only when the options allow it).
    public var imagesWithoutLabels: Int
    /// Listed images the captions file has no caption for (nil when no captions file was given).
    public var imagesWithoutCaption: Int?
    /// Captions whose image is not in the list (a captions file may cover several splits).
    public var captionsWithoutImage: Int?
    /// Whether caption line i belongs to list line i, which the official code assumes
    /// (this importer matches by path either way).
    public var captionsInListOrder: Bool?

    private enum CodingKeys: String, CodingKey {
        case imageCount = "image_count"
        case classCount = "class_count"
        case imagesWithoutLabels = "images_without_labels"
        case imagesWithoutCaption = "images_without_caption"
        case captionsWithoutImage = "captions_without_image"
        case captionsInListOrder = "captions_in_list_order"
    }
}

/// How `LMPTListImporter` reads the LMPT / DBL list files.
public struct LMPTImportOptions: Sendable, Equatable {
    /// How a list line gives its labels after the image path.
    public var labelEncoding: LMPTLabelEncoding
    /// Keep images listed with no label (COCO-LT's test list has 48); refused by default.
    public var allowsEmptyLabelSets: Bool
    /// Cut captions to this many characters, as the official code does (75); nil keeps them whole.
    public var captionCharacterLimit: Int?
    /// Most problems listed in an error.
    public var maximumProblems: Int

    /// The options that read the published VOC-LT and COCO-LT files as they are.
    public init(labelEncoding: LMPTLabelEncoding = .classIndices, allowsEmptyLabelSets: Bool = false,
                captionCharacterLimit: Int? = nil, maximumProblems: Int = 100) {
        self.labelEncoding = labelEncoding
        self.allowsEmptyLabelSets = allowsEmptyLabelSets
        self.captionCharacterLimit = captionCharacterLimit
        self.maximumProblems = maximumProblems
    }
}

/// How an LMPT / DBL list line encodes its labels after the path.
public enum LMPTLabelEncoding: String, Sendable, Codable, Equatable {
    /// 0-based class ids (`… 14 4 19`), as in VOC-LT and COCO-LT's published lists.
    case classIndices = "class_indices"
    /// One 0/1 flag per class, in class order.
    case oneHot = "one_hot"
}
