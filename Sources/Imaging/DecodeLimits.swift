/// Bounds on what the decoder accepts, checked before any pixel is decoded.
public struct DecodeLimits: Sendable, Equatable {
    /// Largest encoded input, in bytes.
    public var maxEncodedBytes: Int
    /// Largest `width * height` that the header may declare.
    public var maxPixelCount: Int

    /// Limits from explicit values.
    public init(maxEncodedBytes: Int, maxPixelCount: Int) {
        self.maxEncodedBytes = maxEncodedBytes
        self.maxPixelCount = maxPixelCount
    }

    /// 32 MiB of input and 50 megapixels (a 12 MP phone photo decodes to 36 MB of RGB).
    public static let `default` = DecodeLimits(maxEncodedBytes: 32 << 20, maxPixelCount: 50_000_000)

    /// Throws `tooLarge` when the encoded input is over the byte limit.
    func checkEncodedSize(_ count: Int) throws(ImagingError) {
        guard count <= maxEncodedBytes else {
            throw .tooLarge("\(count) encoded bytes, the limit is \(maxEncodedBytes)")
        }
    }

    /// Throws `tooLarge` when a declared size is over the pixel limit.
    func checkPixelCount(width: Int, height: Int) throws(ImagingError) {
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, count <= maxPixelCount else {
            throw .tooLarge("\(width) x \(height) pixels, the limit is \(maxPixelCount)")
        }
    }
}
