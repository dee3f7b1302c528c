import CImageCodecs
// Imported for its module map's `link "png16"`, which the C target's libpng calls need.
import CPNG

/// PNG through libpng (called from C, see CImageCodecs), matching PIL's pixels: palettes,
/// low bit depths, gray, tRNS and alpha expanded to RGB(A); 16-bit samples keep their high byte
/// (PIL does the same for RGB, RGBA and LA, but clamps 16-bit gray to 255: see the notes).
enum PNGDecoder {
    private static let messageCapacity = 200

    /// Decodes to RGB, flattening alpha over `alphaBackground` (nil: alpha dropped); returns
    /// the orientation of an eXIf chunk, not yet applied.
    static func decode(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits,
                       alphaBackground: RGBColor?) throws(ImagingError) -> (image: RGBImage, orientation: ExifOrientation) {
        let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var message = [CChar](repeating: 0, count: messageCapacity)
        var layout = cic_png_layout()
        guard cic_png_read_layout(data, bytes.count, &layout, &message, messageCapacity) == 0 else {
            throw .corrupt("PNG header: \(text(message))")
        }
        let w = Int(layout.width), h = Int(layout.height)
        guard w > 0, h > 0 else { throw .corrupt("PNG of size \(w) x \(h)") }
        try limits.checkPixelCount(width: w, height: h)

        var failed = false
        let image: RGBImage
        if layout.channels == 3 {
            image = RGBImage(width: w, height: h) { out in
                failed = cic_png_decode(data, bytes.count, &layout, out.baseAddress, out.count,
                                        &message, messageCapacity) != 0
            }
        } else {
            let rgba = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: w * h * 4)
            defer { rgba.deallocate() }
            failed = cic_png_decode(data, bytes.count, &layout, rgba.baseAddress, rgba.count,
                                    &message, messageCapacity) != 0
            image = RGBImage(width: w, height: h) { out in
                guard !failed else { return }
                if let alphaBackground {
                    AlphaCompositing.composite(rgba.baseAddress!, over: alphaBackground,
                                               into: out.baseAddress!, pixelCount: w * h)
                } else {
                    AlphaCompositing.discardAlpha(rgba.baseAddress!, into: out.baseAddress!, pixelCount: w * h)
                }
            }
        }
        if failed { throw .corrupt("PNG data: \(text(message))") }
        return (image, ExifOrientation.from(exif: PNGMetadata.exif(in: bytes), xmp: nil))
    }

    /// The NUL-terminated message the C side wrote.
    private static func text(_ message: [CChar]) -> String {
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
