/// PIL's CMYK JPEG colours: libjpeg's CMYK output read as Adobe-inverted ("CMYK;I", which PIL
/// assumes for every CMYK JPEG), then PIL's `cmyk2rgb`: `255 − k − c·(255 − k)/255` with
/// PIL's rounded division by 255.
enum CMYKConversion {
    /// Converts `pixelCount` stored (inverted) CMYK pixels to RGB.
    static func invertedCMYKToRGB(_ source: UnsafePointer<UInt8>, _ destination: UnsafeMutablePointer<UInt8>,
                                  pixelCount: Int) {
        var src = source
        var dst = destination
        for _ in 0..<pixelCount {
            // Stored K is inverted, so 255 − k is the stored value itself.
            let notK = Int32(src[3])
            dst[0] = channel(inverted: src[0], notK: notK)
            dst[1] = channel(inverted: src[1], notK: notK)
            dst[2] = channel(inverted: src[2], notK: notK)
            src += 4
            dst += 3
        }
    }

    @inline(__always)
    private static func channel(inverted stored: UInt8, notK: Int32) -> UInt8 {
        let c = 255 - Int32(stored)
        let t = c &* notK &+ 128
        let value = notK &- (((t >> 8) &+ t) >> 8)
        return UInt8(clamping: value)
    }
}
