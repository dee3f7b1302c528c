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
