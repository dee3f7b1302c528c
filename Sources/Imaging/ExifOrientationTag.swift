/// Finds the orientation value in Exif (TIFF) data and in XMP text, tolerating malformed data:
/// anything unreadable counts as absent, where PIL would warn or raise.
enum ExifOrientationTag {
    private static let orientationTag: UInt16 = 0x0112
    private static let exifPrefix: [UInt8] = Array("Exif\u{0}\u{0}".utf8)

    /// The raw Orientation value of IFD0 (SHORT or LONG, first value), or nil when the tag is
    /// absent or the data cannot be read.
    static func value(in exif: [UInt8]) -> Int? {
        exif.withUnsafeBytes { raw -> Int? in
            var tiff = raw[...]
            // PIL strips every leading "Exif\0\0" (JPEG APP1 payloads carry one).
            while tiff.starts(with: exifPrefix) { tiff = tiff.dropFirst(6) }
            let data = UnsafeRawBufferPointer(rebasing: tiff)
            guard data.count >= 8 else { return nil }
            let bigEndian: Bool
            switch (data[0], data[1], data[2], data[3]) {
            case (0x49, 0x49, 0x2A, 0x00), (0x49, 0x49, 0x00, 0x2A): bigEndian = false
            case (0x4D, 0x4D, 0x00, 0x2A), (0x4D, 0x4D, 0x2A, 0x00): bigEndian = true
            default: return nil
            }
            let reader = TIFFReader(data: data, bigEndian: bigEndian)
            guard let ifd = reader.uint32(at: 4).map(Int.init),
                  let entryCount = reader.uint16(at: ifd).map(Int.init) else { return nil }
            var found: Int?
            // Whole 12-byte entries are read until the data runs out; a later duplicate wins,
            // as in PIL.
            for index in 0..<entryCount {
                let entry = ifd + 2 + index * 12
                guard entry + 12 <= data.count, let tag = reader.uint16(at: entry), let type = reader.uint16(at: entry + 2),
                      let count = reader.uint32(at: entry + 4) else { break }
                guard tag == orientationTag, count >= 1 else { continue }
                let unit = type == 3 ? 2 : type == 4 ? 4 : 0
                guard unit > 0 else { continue }
                // Values over four bytes live at an offset; only the first one is used.
                var at = entry + 8
                if Int(count) * unit > 4 {
                    guard let offset = reader.uint32(at: at) else { continue }
                    at = Int(offset)
                }
                if unit == 2 {
                    if let v = reader.uint16(at: at) { found = Int(v) }
                } else if let v = reader.uint32(at: at) {
                    found = Int(v)
                }
            }
            return found
        }
    }

    /// The digit after `tiff:Orientation="` or `tiff:Orientation>` (PIL's XMP fallback).
    static func value(inXMP xmp: [UInt8]) -> Int? {
        let key = Array("tiff:Orientation".utf8)
        let quote = UInt8(ascii: "\""), equals = UInt8(ascii: "="), close = UInt8(ascii: ">")
        guard xmp.count > key.count else { return nil }
        var i = 0
        while i + key.count < xmp.count {
            if xmp[i] == key[0], xmp[i..<(i + key.count)].elementsEqual(key) {
                let j = i + key.count
                var digitAt: Int?
                if xmp[j] == equals, j + 2 < xmp.count, xmp[j + 1] == quote {
                    digitAt = j + 2
                } else if xmp[j] == close, j + 1 < xmp.count {
                    digitAt = j + 1
                }
                if let d = digitAt, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(xmp[d]) {
                    return Int(xmp[d] - UInt8(ascii: "0"))
                }
            }
            i += 1
        }
        return nil
    }
}

/// Bounds-checked reads of TIFF integers in either byte order.
private struct TIFFReader {
    let data: UnsafeRawBufferPointer
    let bigEndian: Bool

    func uint16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= data.count - 2 else { return nil }
        let a = UInt16(data[offset]), b = UInt16(data[offset + 1])
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func uint32(at offset: Int) -> UInt32? {
        guard let first = uint16(at: offset), let second = uint16(at: offset + 2) else { return nil }
        return bigEndian ? UInt32(first) << 16 | UInt32(second) : UInt32(second) << 16 | UInt32(first)
    }
}
