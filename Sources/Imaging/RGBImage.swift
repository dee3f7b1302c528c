/// An 8-bit RGB image: rows top to bottom, pixels interleaved R, G, B, no row padding.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height * 3` samples.
    public let pixels: [UInt8]

    /// Wraps existing pixels; the count must be `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws(ImagingError) {
        guard width > 0, height > 0 else {
            throw .invalidArgument("image size \(width) x \(height) must be positive")
        }
        let (count, overflow) = width.multipliedReportingOverflow(by: height * 3)
        guard !overflow, pixels.count == count else {
            throw .invalidArgument("\(pixels.count) samples for a \(width) x \(height) RGB image")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Internal initialiser for kernels that fill a buffer of the right size themselves.
    init(width: Int, height: Int, filling: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        precondition(width > 0 && height > 0)
        let count = width * height * 3
        self.width = width
        self.height = height
        self.pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            filling(buffer)
            initialized = count
        }
    }
}
