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
