import CTurboJPEG

/// JPEG through TurboJPEG with its defaults (accurate integer DCT, fancy upsampling), which
/// yield the same pixels as PIL's libjpeg-turbo.
///
/// Like PIL, libjpeg warnings (extraneous bytes, corrupt entropy data) are tolerated and the
/// image decoded as far as libjpeg goes, while a truncated file is refused.
enum JPEGDecoder {
    /// Decodes to RGB; returns the orientation found in Exif or XMP, not yet applied.
    static func decode(_ bytes: UnsafeRawBufferPointer,
                       limits: DecodeLimits) throws(ImagingError) -> (image: RGBImage, orientation: ExifOrientation) {
        let metadata = JPEGMetadata(scanning: bytes)
        guard let handle = tjInitDecompress() else { throw .corrupt("cannot create a JPEG decoder") }
        defer { tjDestroy(handle) }
        let jpeg = JPEGInput(handle: handle, bytes: bytes)

        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = -1, colorspace: Int32 = -1
        let header = tjDecompressHeader3(handle, jpeg.start, jpeg.size, &width, &height, &subsampling, &colorspace)
        // A failed header read still reports the size and colour space when the failure came
        // after them: a warning, or TurboJPEG 2.x not naming an unusual sampling layout
        // (which libjpeg decodes fine, as PIL does). Without them the header is unusable.
        guard width > 0, height > 0, colorspace >= 0 else {
            throw .corrupt(header == 0 ? "JPEG without an image frame" : "JPEG header: \(jpeg.errorMessage)")
        }
        try limits.checkPixelCount(width: Int(width), height: Int(height))

        let w = Int(width), h = Int(height)
        let image: RGBImage
        if colorspace == TJCS_CMYK.rawValue || colorspace == TJCS_YCCK.rawValue {
            // libjpeg turns YCCK into CMYK; PIL then reads every CMYK JPEG as Adobe-inverted.
            let cmyk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: w * h * 4)
            defer { cmyk.deallocate() }
            try jpeg.decompress(into: cmyk.baseAddress!, width, height, TJPF_CMYK)
            image = RGBImage(width: w, height: h) { out in
                CMYKConversion.invertedCMYKToRGB(cmyk.baseAddress!, out.baseAddress!, pixelCount: w * h)
            }
        } else {
            // Grayscale files expand to RGB inside libjpeg, like PIL's convert("RGB").
            var failure: ImagingError?
            image = RGBImage(width: w, height: h) { out in
                do throws(ImagingError) {
                    try jpeg.decompress(into: out.baseAddress!, width, height, TJPF_RGB)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
        }
        return (image, ExifOrientation.from(exif: metadata.exif, xmp: metadata.xmp))
    }
}

/// One JPEG in memory and the TurboJPEG handle decoding it.
private struct JPEGInput {
    let handle: tjhandle
    let bytes: UnsafeRawBufferPointer

    var start: UnsafePointer<UInt8> { UnsafePointer(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    var size: UInt { UInt(bytes.count) }

    var errorMessage: String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: text)
    }

    /// Decodes the whole image into `destination` (packed rows of the pixel format's size).
    ///
    /// TurboJPEG 2.x reports a warning and a later fatal error alike (-1, warning code), and
    /// formats only the first warning. So a first run stops at the first warning, which tells
    /// fatal errors and truncation apart from benign warnings; only files with benign warnings
    /// are decoded a second time, tolerantly, and accepted if nothing but warnings recurs.
    func decompress(into destination: UnsafeMutablePointer<UInt8>, _ width: Int32, _ height: Int32,
                    _ format: TJPF) throws(ImagingError) {
        // A scan limit keeps hostile progressive files (thousands of scans) from taking minutes.
        let flags = TJFLAG_LIMITSCANS
        if run(destination, width, height, format, flags | TJFLAG_STOPONWARNING) == 0 { return }
        let firstMessage = errorMessage
        guard tjGetErrorCode(handle) == TJERR_WARNING.rawValue else {
            throw .corrupt("JPEG data: \(firstMessage)")
        }
        // PIL refuses a file that ends before its EOI marker ("image file is truncated").
        if firstMessage.hasPrefix("Premature end of JPEG file") || !JPEGMetadata.hasEndMarkerAfterScan(bytes) {
            throw .corrupt("truncated JPEG data")
        }
        if run(destination, width, height, format, flags) == 0 { return }
        let message = errorMessage
        guard message == firstMessage else { throw .corrupt("JPEG data: \(message)") }
    }

    private func run(_ destination: UnsafeMutablePointer<UInt8>, _ width: Int32, _ height: Int32,
                     _ format: TJPF, _ flags: Int32) -> Int32 {
        tjDecompress2(handle, start, size, destination, width, 0, height, format.rawValue, flags)
    }
}
