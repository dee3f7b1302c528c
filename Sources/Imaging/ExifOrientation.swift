/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to display upright.
/// Cases are named by the transform PIL's `ImageOps.exif_transpose` applies.
enum ExifOrientation: Int, Sendable {
    case identity = 1
    case flipHorizontal = 2
    case rotate180 = 3
    case flipVertical = 4
    case transpose = 5
    /// Stored rotated; PIL applies ROTATE_270 (90° clockwise).
    case rotate90Clockwise = 6
    case transverse = 7
    /// Stored rotated; PIL applies ROTATE_90 (90° counter-clockwise).
    case rotate90CounterClockwise = 8

    /// The orientation PIL would find: the Exif Orientation tag when present, else the XMP
    /// `tiff:Orientation` attribute; values outside 1...8 mean no transform.
    static func from(exif: [UInt8]?, xmp: [UInt8]?) -> ExifOrientation {
        let raw: Int?
        if let exif, let tagged = ExifOrientationTag.value(in: exif) {
            raw = tagged
        } else if let xmp {
            raw = ExifOrientationTag.value(inXMP: xmp)
        } else {
            raw = nil
        }
        return raw.flatMap(ExifOrientation.init(rawValue:)) ?? .identity
    }

    /// Returns the image turned upright, with unsafe-pointer copies.
    func apply(to image: RGBImage) -> RGBImage {
        if self == .identity { return image }
        let w = image.width, h = image.height
        let row = w * 3
        let last = (h - 1) * row + (w - 1) * 3
        // Output pixel (ox, oy) reads input offset start + oy * rowStep + ox * columnStep.
        let swapsAxes: Bool
        let start: Int, columnStep: Int, rowStep: Int
        switch self {
        case .identity: return image
        case .flipHorizontal: (swapsAxes, start, columnStep, rowStep) = (false, (w - 1) * 3, -3, row)
        case .rotate180: (swapsAxes, start, columnStep, rowStep) = (false, last, -3, -row)
        case .flipVertical: (swapsAxes, start, columnStep, rowStep) = (false, (h - 1) * row, 3, -row)
        case .transpose: (swapsAxes, start, columnStep, rowStep) = (true, 0, row, 3)
        case .rotate90Clockwise: (swapsAxes, start, columnStep, rowStep) = (true, (h - 1) * row, -row, 3)
        case .transverse: (swapsAxes, start, columnStep, rowStep) = (true, last, -row, -3)
        case .rotate90CounterClockwise: (swapsAxes, start, columnStep, rowStep) = (true, (w - 1) * 3, row, -3)
        }
        let outWidth = swapsAxes ? h : w
        let outHeight = swapsAxes ? w : h
        return image.pixels.withUnsafeBufferPointer { source in
            RGBImage(width: outWidth, height: outHeight) { out in
                let src = source.baseAddress!
                var dst = out.baseAddress!
                for oy in 0..<outHeight {
                    var s = start + oy * rowStep
                    for _ in 0..<outWidth {
                        dst[0] = src[s]
                        dst[1] = src[s + 1]
                        dst[2] = src[s + 2]
                        dst += 3
                        s += columnStep
                    }
                }
            }
        }
    }
}
