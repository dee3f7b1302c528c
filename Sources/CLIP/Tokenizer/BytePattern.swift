/// A fixed-length byte expression (one byte class per position), for ftfy's byte-level rules.
struct BytePattern: Sendable {
    /// A set of byte values.
    struct ByteSet: Sendable {
        private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        init(_ ranges: ClosedRange<UInt8>...) {
            for range in ranges {
                for byte in range { insert(byte) }
            }
        }

        private mutating func insert(_ byte: UInt8) {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: bits.0 |= bit
            case 1: bits.1 |= bit
            case 2: bits.2 |= bit
            default: bits.3 |= bit
            }
        }

        func contains(_ byte: UInt8) -> Bool {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: return bits.0 & bit != 0
            case 1: return bits.1 & bit != 0
            case 2: return bits.2 & bit != 0
            default: return bits.3 & bit != 0
            }
        }
    }

    let classes: [ByteSet]

    init(_ classes: ByteSet...) {
        self.classes = classes
    }

    func matches(_ bytes: [UInt8], at index: Int) -> Bool {
        guard index + classes.count <= bytes.count else { return false }
        for (offset, byteClass) in classes.enumerated() where !byteClass.contains(bytes[index + offset]) {
            return false
        }
        return true
    }

    /// The length of the first of `alternatives` matching at `index` (Python's alternation order).
    static func firstMatch(_ alternatives: [BytePattern], in bytes: [UInt8], at index: Int) -> Int? {
        for pattern in alternatives where pattern.matches(bytes, at: index) {
            return pattern.classes.count
        }
        return nil
    }
}
