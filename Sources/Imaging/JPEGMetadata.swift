/// What the decoder reads from a JPEG's marker segments itself: the Exif and XMP payloads
/// before the first scan (for orientation), and whether an EOI marker follows the scans.
struct JPEGMetadata {
    /// The first "Exif\0\0" APP1 payload, with later ones appended minus their prefix (as PIL).
    var exif: [UInt8]?
    /// The last XMP APP1 packet, after its namespace prefix.
    var xmp: [UInt8]?

    private static let exifPrefix: [UInt8] = Array("Exif\u{0}\u{0}".utf8)
    private static let xmpPrefix: [UInt8] = Array("http://ns.adobe.com/xap/1.0/\u{0}".utf8)

    /// Walks the segments from SOI to the first SOS; stops quietly at anything malformed.
    init(scanning bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        var i = 2
        while i < n {
            // Skip junk up to the next 0xFF, then any fill bytes.
            guard bytes[i] == 0xFF else { i += 1; continue }
            while i < n && bytes[i] == 0xFF { i += 1 }
            guard i < n else { return }
            let marker = bytes[i]
            i += 1
            switch marker {
            case 0x00, 0x01, 0xD0...0xD7: continue  // stuffed byte, TEM and RSTn have no length
            case 0xD9, 0xDA: return                 // EOI or SOS: no metadata after this
            default: break
            }
            guard i + 2 <= n else { return }
            let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
            guard length >= 2, i + length <= n else { return }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(i + 2)..<(i + length)])
            i += length
            switch marker {
            case 0xE1 where payload.starts(with: Self.exifPrefix):
                if exif == nil {
                    exif = Array(payload)
                } else {
                    exif! += payload.dropFirst(6)
                }
            case 0xE1 where payload.starts(with: Self.xmpPrefix):
                xmp = Array(payload.dropFirst(Self.xmpPrefix.count))
            default:
                break
            }
        }
    }

    /// Whether an EOI marker (FF D9) appears after the first SOS marker. Entropy-coded data
    /// escapes every 0xFF (FF 00) and only carries RSTn markers, so an FF D9 there is the end.
    static func hasEndMarkerAfterScan(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 2
        var inScans = false
        while i + 1 < bytes.count {
            if bytes[i] == 0xFF {
                let marker = bytes[i + 1]
                if inScans && marker == 0xD9 { return true }
                if !inScans && marker == 0xDA { inScans = true }
                // Outside the scans, hop over marker segments so their payloads are not searched.
                if !inScans, marker != 0xFF, marker != 0x00, marker != 0x01, !(0xD0...0xD9).contains(marker),
                   i + 3 < bytes.count {
                    i += 2 + (Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]))
                    continue
                }
            }
            i += 1
        }
        return false
    }
}
