/// Per-scalar properties as the Python reference sees them (Python's `str`, `re` and the `regex`
/// module's classes), from the generated tables.
struct PythonScalarFlags: OptionSet, Sendable {
    let rawValue: UInt8

    /// `(?i)[\p{L}]` of the split pattern.
    static let letter = PythonScalarFlags(rawValue: 1)
    /// `(?i)[\p{N}]` of the split pattern.
    static let number = PythonScalarFlags(rawValue: 2)
    /// `(?i)[^\s\p{L}\p{N}]` of the split pattern.
    static let other = PythonScalarFlags(rawValue: 4)
    /// `str.isspace()`.
    static let space = PythonScalarFlags(rawValue: 8)
    /// `re`'s `\w`.
    static let word = PythonScalarFlags(rawValue: 16)
    /// May change under NFC, or compose with the scalar before it.
    static let nfcSensitive = PythonScalarFlags(rawValue: 32)
}

/// Lookups of `PythonScalarFlags` and `str.lower()`: a flat table for the BMP, binary search in
/// range lists above it.
final class PythonUnicode: @unchecked Sendable {  // immutable after init
    static let shared = PythonUnicode()

    /// Flags of the 65,536 BMP scalars; allocated once for the process and never written again
    /// (a pointer, so that hot loops do no reference counting).
    private let bmpFlags: UnsafeMutablePointer<PythonScalarFlags>
    private let astralRanges: [(ranges: [ClosedRange<UInt32>], flag: PythonScalarFlags)]
    private let lowercase: [UInt32: Unicode.Scalar]
    private let lowercaseExpanding: [UInt32: [Unicode.Scalar]]

    private init() {
        let tables: [(String, PythonScalarFlags)] = [
            (GeneratedUnicodeData.letterRanges, .letter),
            (GeneratedUnicodeData.numberRanges, .number),
            (GeneratedUnicodeData.otherRanges, .other),
            (GeneratedUnicodeData.whitespaceRanges, .space),
            (GeneratedUnicodeData.wordRanges, .word),
            (GeneratedUnicodeData.nfcSensitiveRanges, .nfcSensitive),
        ]
        var flags = [PythonScalarFlags](repeating: [], count: 0x10000)
        var astral: [(ranges: [ClosedRange<UInt32>], flag: PythonScalarFlags)] = []
        for (text, flag) in tables {
            let ranges = GeneratedTableText.ranges(text)
            for range in ranges where range.lowerBound < 0x10000 {
                for value in range.lowerBound...min(range.upperBound, 0xFFFF) {
                    flags[Int(value)].insert(flag)
                }
            }
            astral.append((ranges.filter { $0.upperBound >= 0x10000 }, flag))
        }
        bmpFlags = .allocate(capacity: flags.count)
        bmpFlags.initialize(from: flags, count: flags.count)
        astralRanges = astral

        var single: [UInt32: Unicode.Scalar] = [:]
        var expanding: [UInt32: [Unicode.Scalar]] = [:]
        for (key, scalars) in GeneratedTableText.mappings(GeneratedUnicodeData.lowercaseMappings, separator: ":") {
            let value = GeneratedTableText.hex(key)
            if scalars.count == 1 { single[value] = scalars[0] } else { expanding[value] = scalars }
        }
        lowercase = single
        lowercaseExpanding = expanding
    }

    @inline(__always)
    func flags(_ scalar: Unicode.Scalar) -> PythonScalarFlags {
        let value = scalar.value
        if value < 0x10000 { return bmpFlags[Int(value)] }
        var result: PythonScalarFlags = []
        for (ranges, flag) in astralRanges where Self.contains(ranges, value) {
            result.insert(flag)
        }
        return result
    }

    @inline(__always)
    func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        flags(scalar).contains(.space)
    }

    private static func contains(_ ranges: [ClosedRange<UInt32>], _ value: UInt32) -> Bool {
        var low = 0, high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < value { low = mid + 1 } else { high = mid }
        }
        return low < ranges.count && ranges[low].contains(value)
    }

    /// Python's `str.lower()`: full lower-case mappings, and U+03A3 becomes final sigma (U+03C2)
    /// when a cased letter precedes it and none follows (case-ignorable scalars skipped).
    func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        for (index, scalar) in text.enumerated() {
            let value = scalar.value
            if value < 0x80 {
                out.append(value >= 0x41 && value <= 0x5A ? Unicode.Scalar(UInt8(value + 0x20)) : scalar)
            } else if value == 0x3A3 {
                out.append(Self.isFinalSigma(text, at: index) ? "\u{3C2}" : "\u{3C3}")
            } else if let lower = lowercase[value] {
                out.append(lower)
            } else if let lower = lowercaseExpanding[value] {
                out.append(contentsOf: lower)
            } else {
                out.append(scalar)
            }
        }
        return out
    }

    /// CPython's `handle_capital_sigma`.
    private static func isFinalSigma(_ text: [Unicode.Scalar], at index: Int) -> Bool {
        var before = index - 1
        while before >= 0 && text[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0 && text[before].properties.isCased else { return false }
        var after = index + 1
        while after < text.count && text[after].properties.isCaseIgnorable { after += 1 }
        return after == text.count || !text[after].properties.isCased
    }

    /// `" ".join(text.split())`: runs of Python whitespace become one space, none at the ends.
    func collapsingWhitespace(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        var pendingSpace = false
        for scalar in text {
            if isSpace(scalar) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(scalar)
            }
        }
        return out
    }
}
