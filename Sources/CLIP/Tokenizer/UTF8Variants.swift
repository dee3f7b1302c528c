/// Byte-to-scalar decoders used when ftfy re-decodes mojibake: Python's strict UTF-8, and ftfy's
/// "utf-8-variants" (also CESU-8 surrogate pairs and Java's two-byte null).
enum UTF8Variants {
    /// Python's `bytes.decode("utf-8")`; nil where it would raise.
    static func decodeStrict(_ bytes: [UInt8]) -> [Unicode.Scalar]? {
        decode(bytes, variants: false)
    }

    /// ftfy's `bytes.decode("utf-8-variants")`; nil where it would raise.
    static func decodeVariants(_ bytes: [UInt8]) -> [Unicode.Scalar]? {
        decode(bytes, variants: true)
    }

    private static func decode(_ bytes: [UInt8], variants: Bool) -> [Unicode.Scalar]? {
        var out = [Unicode.Scalar]()
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if variants, let (scalar, length) = variant(bytes, at: index) {
                out.append(scalar)
                index += length
                continue
            }
            guard let (scalar, length) = standard(bytes, at: index) else { return nil }
            out.append(scalar)
            index += length
        }
        return out
    }

    /// ftfy's special sequences. Its expressions end in `$`, which Python also matches before a
    /// final "\n": "C0 0A" at the very end decodes as a null, and a CESU-8 pair whose last byte is
    /// a final "\n" decodes too.
    private static func variant(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let remaining = bytes.count - index
        if bytes[index] == 0xC0 && remaining >= 2 {
            if bytes[index + 1] == 0x80 || (bytes[index + 1] == 0x0A && remaining == 2) { return ("\u{0}", 2) }
            return nil
        }
        guard bytes[index] == 0xED, remaining >= 6,
              (0xA0...0xAF).contains(bytes[index + 1]), (0x80...0xBF).contains(bytes[index + 2]),
              bytes[index + 3] == 0xED, (0xB0...0xBF).contains(bytes[index + 4]),
              (0x80...0xBF).contains(bytes[index + 5]) || (bytes[index + 5] == 0x0A && remaining == 6)
        else { return nil }
        let value = (UInt32(bytes[index + 1] & 0x0F) << 16) + (UInt32(bytes[index + 2] & 0x3F) << 10)
            + (UInt32(bytes[index + 4] & 0x0F) << 6) + UInt32(bytes[index + 5] & 0x3F) + 0x10000
        return (Unicode.Scalar(value)!, 6)
    }

    /// One well-formed UTF-8 sequence (no overlongs, surrogates or values above U+10FFFF).
    private static func standard(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        var value: UInt32
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0: length = 3; value = 0; secondRange = 0xA0...0xBF
        case 0xED: length = 3; value = 0xD; secondRange = 0x80...0x9F
        case 0xE1...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0: length = 4; value = 0; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4; value = UInt32(lead & 0x07)
        case 0xF4: length = 4; value = 4; secondRange = 0x80...0x8F
        default: return nil
        }
        guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard (0x80...0xBF).contains(byte) else { return nil }
            value = (value << 6) | UInt32(byte & 0x3F)
        }
        return (Unicode.Scalar(value)!, length)
    }
}
