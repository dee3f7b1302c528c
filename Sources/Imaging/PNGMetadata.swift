/// The PNG chunk the decoder reads itself: eXIf, for the orientation. libpng skips it.
enum PNGMetadata {
    /// The payload of the last eXIf chunk before IEND (PIL keeps the last one), if any.
    static func exif(in bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var found: [UInt8]?
        var i = 8
        while i <= bytes.count - 12 {
            let length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length <= bytes.count - 12 - i else { break }
            let type = UnsafeRawBufferPointer(rebasing: bytes[(i + 4)..<(i + 8)])
            if type.elementsEqual("eXIf".utf8) {
                found = Array(bytes[(i + 8)..<(i + 8 + length)])
            } else if type.elementsEqual("IEND".utf8) {
                break
            }
            i += 12 + length
        }
        return found
    }
}
