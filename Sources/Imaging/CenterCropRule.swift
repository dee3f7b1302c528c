/// Where a center crop of one dimension starts, following one reference pipeline.
///
/// When the image is smaller than the crop, both references pad with pixel value 0 (black,
/// which normalises to −mean/std) but place the image differently: Hugging Face at
/// `ceil((S − n) / 2)`, torchvision's `CenterCrop` at `(S − n) // 2`.
public enum CenterCropRule: Sendable, Equatable {
    /// Hugging Face `center_crop`: start `(n − S) // 2`.
    case huggingface
    /// torchvision `CenterCrop` (open_clip): start `round((n − S) / 2)`, half to even.
    case openCLIP

    /// How a crop of `crop` pixels maps onto a dimension of `length` pixels: the first source
    /// index, the first destination index, and how many pixels are copied (the rest is padding).
    func placement(length: Int, crop: Int) -> (source: Int, destination: Int, count: Int) {
        if length >= crop {
            let gap = length - crop
            switch self {
            case .huggingface:
                return (gap / 2, 0, crop)
            case .openCLIP:
                let half = gap / 2
                // An odd gap puts the exact center at half + 0.5: Python rounds to even.
                let start = gap % 2 == 0 || half % 2 == 0 ? half : half + 1
                return (start, 0, crop)
            }
        }
        let gap = crop - length
        switch self {
        case .huggingface: return (0, (gap + 1) / 2, length)
        case .openCLIP: return (0, gap / 2, length)
        }
    }
}
