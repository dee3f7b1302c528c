/// Encoded formats the decoder reads, recognised by their magic bytes.
public enum ImageFormat: Sendable, Equatable {
    case jpeg
    case png

    /// The format of `bytes`, or `unsupportedFormat` naming what was found instead.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) throws(ImagingError) -> ImageFormat {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        throw .unsupportedFormat(describeUnsupported(bytes))
    }

    /// Names common formats that are deliberately not decoded, for a clearer error.
    private static func describeUnsupported(_ bytes: UnsafeRawBufferPointer) -> String {
        if bytes.isEmpty { return "empty input" }
        let known: [(prefix: [UInt8], name: String)] = [
            (Array("GIF8".utf8), "GIF"), (Array("BM".utf8), "BMP"),
            (Array("II*\u{0}".utf8), "TIFF"), (Array("MM\u{0}*".utf8), "TIFF"),
        ]
        for (prefix, name) in known where bytes.starts(with: prefix) {
            return "\(name) is not supported; send JPEG or PNG"
        }
        if bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8),
           bytes[8..<12].elementsEqual("WEBP".utf8) {
            return "WebP is not supported; send JPEG or PNG"
        }
        if bytes.count >= 12, bytes[4..<8].elementsEqual("ftyp".utf8) {
            return "HEIF/AVIF is not supported; send JPEG or PNG"
        }
        return "unrecognised data; send JPEG or PNG"
    }
}
