/// Decodes JPEG and PNG bytes to 8-bit RGB with the same pixels as PIL's
/// `Image.open` → `ImageOps.exif_transpose` → alpha composite / `convert("RGB")`.
///
/// Every failure is an `ImagingError`: the byte limit is checked first, then the format, then the
/// header's pixel count, and only then are pixels decoded.
public enum ImageDecoder {
    /// Decodes an encoded image held in memory.
    public static func decode(_ bytes: UnsafeRawBufferPointer,
                              options: DecodeOptions = DecodeOptions()) throws(ImagingError) -> RGBImage {
        try options.limits.checkEncodedSize(bytes.count)
        let decoded: (image: RGBImage, orientation: ExifOrientation)
        switch try ImageFormat.sniff(bytes) {
        case .jpeg:
            decoded = try JPEGDecoder.decode(bytes, limits: options.limits)
        case .png:
            decoded = try PNGDecoder.decode(bytes, limits: options.limits,
                                            alphaBackground: options.alphaBackground)
        }
        guard options.appliesOrientation else { return decoded.image }
        return decoded.orientation.apply(to: decoded.image)
    }

    /// Decodes an encoded image held in an array.
    public static func decode(_ bytes: [UInt8],
                              options: DecodeOptions = DecodeOptions()) throws(ImagingError) -> RGBImage {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ImagingError) in try decode(raw, options: options) }
        }
        return try result.get()
    }
}
