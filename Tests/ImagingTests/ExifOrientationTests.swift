import Testing
@testable import Imaging

@Suite("Exif and XMP orientation parsing")
struct ExifOrientationTests {
    /// "Exif\0\0" + TIFF header + IFD0 holding the given (tag, type, count, value) entries.
    func exif(bigEndian: Bool, entries: [(UInt16, UInt16, UInt32, [UInt8])]) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) -> [UInt8] { bigEndian ? u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) : u16(UInt16(v & 0xFFFF)) + u16(UInt16(v >> 16)) }
        var out = Array("Exif".utf8) + [0, 0] + (bigEndian ? Array("MM".utf8) + [0, 42] : Array("II".utf8) + [42, 0]) + u32(8)
        out += u16(UInt16(entries.count))
        for (tag, type, count, value) in entries {
            out += u16(tag) + u16(type) + u32(count) + value + [UInt8](repeating: 0, count: 4 - value.count)
        }
        return out + u32(0)
    }

    @Test("SHORT and LONG values in both byte orders")
    func types() {
        #expect(ExifOrientationTag.value(in: exif(bigEndian: false, entries: [(0x0112, 3, 1, [6, 0])])) == 6)
        #expect(ExifOrientationTag.value(in: exif(bigEndian: true, entries: [(0x0112, 3, 1, [0, 8])])) == 8)
        #expect(ExifOrientationTag.value(in: exif(bigEndian: true, entries: [(0x0112, 4, 1, [0, 0, 0, 3])])) == 3)
        // Other tags before it are skipped; an unsupported type (ASCII) is ignored.
        #expect(ExifOrientationTag.value(in: exif(bigEndian: false, entries: [(0x010F, 2, 4, [65, 66, 67, 0]), (0x0112, 3, 1, [5, 0])])) == 5)
        #expect(ExifOrientationTag.value(in: exif(bigEndian: false, entries: [(0x0112, 2, 2, [54, 0])])) == nil)
    }

    @Test("malformed data reads as absent")
    func malformed() {
        let good = exif(bigEndian: false, entries: [(0x0112, 3, 1, [6, 0])])
        for cut in 0..<good.count - 4 {
            // Cut anywhere before the value is complete: absent, never a crash.
            let value = ExifOrientationTag.value(in: Array(good.prefix(cut)))
            #expect(value == nil, "prefix of \(cut) bytes gave \(String(describing: value))")
        }
        var badOrder = good
        badOrder[6] = UInt8(ascii: "X")
        #expect(ExifOrientationTag.value(in: badOrder) == nil)
        var farOffset = good
        farOffset[10...13] = [0xF0, 0xFF, 0xFF, 0x7F]
        #expect(ExifOrientationTag.value(in: farOffset) == nil)
    }

    @Test("values outside 1...8 mean no transform")
    func outOfRange() {
        for raw: UInt8 in [0, 9, 200] {
            let data = exif(bigEndian: false, entries: [(0x0112, 3, 1, [raw, 0])])
            #expect(ExifOrientation.from(exif: data, xmp: nil) == .identity)
        }
    }

    @Test("XMP fallback follows PIL's pattern and only applies without an Exif tag")
    func xmp() {
        #expect(ExifOrientationTag.value(inXMP: Array("<x tiff:Orientation=\"6\"/>".utf8)) == 6)
        #expect(ExifOrientationTag.value(inXMP: Array("<tiff:Orientation>3</tiff:Orientation>".utf8)) == 3)
        #expect(ExifOrientationTag.value(inXMP: Array("tiff:Orientation='6'".utf8)) == nil)
        #expect(ExifOrientationTag.value(inXMP: Array("tiff:Orientation=\"".utf8)) == nil)
        let exifSix = exif(bigEndian: false, entries: [(0x0112, 3, 1, [6, 0])])
        let xmpEight = Array("tiff:Orientation=\"8\"".utf8)
        #expect(ExifOrientation.from(exif: exifSix, xmp: xmpEight) == .rotate90Clockwise)
        #expect(ExifOrientation.from(exif: nil, xmp: xmpEight) == .rotate90CounterClockwise)
    }
}
