/// CLIP's image preprocessing, matching the reference pipelines to within float rounding:
/// PIL bicubic resize of the shortest edge to `shortestEdge` (long edge `int(S · long / short)`),
/// center crop to `cropSize` under `cropRule`, ×1/255, `(x − mean) / std`, CHW Float32.
public struct CLIPPreprocess: Sendable {
    /// OpenAI CLIP's channel means.
    public static let openAIMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    /// OpenAI CLIP's channel standard deviations.
    public static let openAIStd: [Float] = [0.26862954, 0.26130258, 0.27577711]
    /// ImageNet channel means, used by some checkpoints.
    public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    /// ImageNet channel standard deviations.
    public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]

    /// Target length of the shorter side after resizing.
    public let shortestEdge: Int
    /// Side of the square crop, and of the output planes.
    public let cropSize: Int
    /// Per-channel means (R, G, B), as Float32 like both references.
    public let mean: [Float]
    /// Per-channel standard deviations (R, G, B).
    public let std: [Float]
    /// Which reference's crop offset and normalisation arithmetic to follow.
    public let cropRule: CenterCropRule
    /// Normalised value of every 8-bit level, per channel: 3 x 256 entries.
    private let levels: [Float]

    /// A preprocessing configuration; throws `invalidArgument` for non-positive sizes or
    /// mean/std that are not three finite values with non-zero std.
    public init(shortestEdge: Int = 224, cropSize: Int = 224,
                mean: [Float] = CLIPPreprocess.openAIMean, std: [Float] = CLIPPreprocess.openAIStd,
                cropRule: CenterCropRule = .huggingface) throws(ImagingError) {
        guard shortestEdge > 0, cropSize > 0 else {
            throw .invalidArgument("sizes must be positive: shortest edge \(shortestEdge), crop \(cropSize)")
        }
        guard mean.count == 3, std.count == 3, mean.allSatisfy(\.isFinite),
              std.allSatisfy({ $0.isFinite && $0 != 0 }) else {
            throw .invalidArgument("mean and std need three finite values, std non-zero")
        }
        self.shortestEdge = shortestEdge
        self.cropSize = cropSize
        self.mean = mean
        self.std = std
        self.cropRule = cropRule
        self.levels = Self.levelTable(mean: mean, std: std, rule: cropRule)
    }

    /// Number of floats one image produces: 3 · cropSize².
    public var outputCount: Int { 3 * cropSize * cropSize }

    /// Size after the shortest-edge resize: short side S, long side `int(S · long / short)`
    /// (Hugging Face's and torchvision's rule alike; the division is exact in Double, as in Python).
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let short = min(width, height), long = max(width, height)
        let scaledLong = Int(Double(shortestEdge * long) / Double(short))
        return width <= height ? (shortestEdge, scaledLong) : (scaledLong, shortestEdge)
    }

    /// Writes the CHW tensor of `image` into `output`, which must hold `outputCount` floats
    /// (a slice of a batch buffer, so batches are filled without copies).
    public func apply(_ image: RGBImage, into output: UnsafeMutableBufferPointer<Float>) throws(ImagingError) {
        guard output.count >= outputCount, let base = output.baseAddress else {
            throw .invalidArgument("output holds \(output.count) floats, \(outputCount) needed")
        }
        let resized = resizedSize(width: image.width, height: image.height)
        let columns = cropRule.placement(length: resized.width, crop: cropSize)
        let rows = cropRule.placement(length: resized.height, crop: cropSize)
        let plane = cropSize * cropSize
        levels.withUnsafeBufferPointer { levels in
            let table = levels.baseAddress!
            // Padding is pixel value 0 in both references, normalised like any other level.
            if columns.count < cropSize || rows.count < cropSize {
                for c in 0..<3 {
                    (base + c * plane).initialize(repeating: table[c * 256], count: plane)
                }
            }
            let window = PixelRect(x: columns.source, y: rows.source, width: columns.count, height: rows.count)
            let pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: window.width * window.height * 3)
            defer { pixels.deallocate() }
            BicubicResampler.resample(image, width: resized.width, height: resized.height, window: window,
                                      into: pixels)
            let red = table, green = table + 256, blue = table + 512
            for y in 0..<window.height {
                var p = pixels + y * window.width * 3
                let offset = (rows.destination + y) * cropSize + columns.destination
                let r = base + offset, g = r + plane, b = g + plane
                for x in 0..<window.width {
                    r[x] = red[Int(p[0])]
                    g[x] = green[Int(p[1])]
                    b[x] = blue[Int(p[2])]
                    p += 3
                }
            }
        }
    }

    /// The CHW tensor of `image` as a new array of `outputCount` floats.
    public func apply(_ image: RGBImage) -> [Float] {
        [Float](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
            // Cannot fail: the buffer has exactly the required size.
            try? apply(image, into: buffer)
            initialized = outputCount
        }
    }

    /// Every level's normalised value with each reference's own float arithmetic:
    /// Hugging Face rescales in Double then rounds to Float (`x.astype(float64) * (1/255)`),
    /// torchvision divides in Float (`ToTensor`); both then compute `(x − mean) / std` in Float.
    private static func levelTable(mean: [Float], std: [Float], rule: CenterCropRule) -> [Float] {
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for level in 0..<256 {
                let scaled: Float = switch rule {
                case .huggingface: Float(Double(level) * (1.0 / 255.0))
                case .openCLIP: Float(level) / 255
                }
                table[c * 256 + level] = (scaled - mean[c]) / std[c]
            }
        }
        return table
    }
}
