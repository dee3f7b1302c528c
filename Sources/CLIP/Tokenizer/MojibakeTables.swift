/// ftfy's character tables, parsed once from the generated data.
final class MojibakeTables: Sendable {
    static let shared = MojibakeTables()

    /// `CHARMAP_ENCODINGS` in ftfy's order.
    let codePages: [CodePage]
    /// Python's strict windows-1252 decoder; nil marks undefined bytes.
    let strictWindows1252: [Unicode.Scalar?]
    /// ftfy's sloppy windows-1252, used to reinterpret C1 controls.
    let sloppyWindows1252: CodePage
    /// `GeneratedMojibakeData.badnessPatterns` flattened (`badnessRuleCodes[badnessRules[i]]` is
    /// rule i), so that matching does not retain an array per rule.
    let badnessRuleCodes: [Int8]
    let badnessRules: [Range<Int>]
    /// Class masks of the BMP scalars (no astral scalar is in a class): an index per scalar into
    /// `badnessMasks`, whose entry 0 is the empty mask.
    let badnessMaskIndex: [UInt8]
    let badnessMasks: [UInt128]
    /// Classes with no ASCII member.
    let nonASCIIClasses: UInt128
    /// Whether every rule needs a scalar of a class with no ASCII member (then only text around
    /// such scalars needs checking).
    let everyBadnessRuleNeedsNonASCII: Bool
    /// The most scalars a rule spans.
    let longestBadnessRule: Int
    let utf8Clues: [Unicode.Scalar: UTF8Clue]
    let widthMap: [Unicode.Scalar: [Unicode.Scalar]]
    let ligatures: [Unicode.Scalar: [Unicode.Scalar]]
    let singleQuotes: [ClosedRange<UInt32>]
    let doubleQuotes: [ClosedRange<UInt32>]
    let controlCharacters: [ClosedRange<UInt32>]

    /// Classes of UTF8_DETECTOR_RE (scalars that Latin-1-like code pages make of UTF-8 bytes).
    struct UTF8Clue: OptionSet, Sendable {
        let rawValue: UInt8
        static let firstOfTwo = UTF8Clue(rawValue: 1)
        static let firstOfThree = UTF8Clue(rawValue: 2)
        static let firstOfFour = UTF8Clue(rawValue: 4)
        static let continuation = UTF8Clue(rawValue: 8)
        static let strictContinuation = UTF8Clue(rawValue: 16)
    }

    /// The class mask of a scalar.
    @inline(__always)
    func badnessMask(_ scalar: Unicode.Scalar) -> UInt128 {
        scalar.value < 0x10000 ? badnessMasks[Int(badnessMaskIndex[Int(scalar.value)])] : 0
    }

    private init() {
        codePages = GeneratedMojibakeData.codePageNames.map {
            CodePage(name: $0, table: GeneratedMojibakeData.codePages[$0]!)
        }
        sloppyWindows1252 = codePages.first { $0.name == "sloppy-windows-1252" }!
        strictWindows1252 = GeneratedTableText.entries(GeneratedMojibakeData.strictWindows1252).map {
            $0 == "-" ? nil : Unicode.Scalar(GeneratedTableText.hex($0))!
        }
        let badnessPatterns = GeneratedMojibakeData.badnessPatterns
        badnessRuleCodes = badnessPatterns.flatMap { $0 }
        var start = 0
        badnessRules = badnessPatterns.map { pattern in
            defer { start += pattern.count }
            return start..<start + pattern.count
        }
        longestBadnessRule = badnessPatterns.map(\.count).max() ?? 0
        var maskIndex = [UInt8](repeating: 0, count: 0x10000)
        var masks: [UInt128] = [0]
        var asciiClasses: UInt128 = 0
        for (scalar, mask) in GeneratedTableText.numberPairs(GeneratedMojibakeData.badnessClassMasks, as: UInt128.self) {
            precondition(scalar < 0x10000, "badness classes are BMP-only")
            if !masks.contains(mask) { masks.append(mask) }
            maskIndex[Int(scalar)] = UInt8(masks.firstIndex(of: mask)!)
            if scalar < 0x80 { asciiClasses |= mask }
        }
        precondition(masks.count <= 256, "too many distinct badness masks")
        badnessMaskIndex = maskIndex
        badnessMasks = masks
        nonASCIIClasses = ~asciiClasses
        everyBadnessRuleNeedsNonASCII = badnessPatterns.allSatisfy { pattern in
            pattern.contains { $0 >= 0 && (~asciiClasses >> UInt128($0)) & 1 == 1 }
        }
        var clues: [Unicode.Scalar: UTF8Clue] = [:]
        for (scalar, mask) in GeneratedTableText.numberPairs(GeneratedMojibakeData.utf8ClueMasks, as: UInt8.self) {
            clues[Unicode.Scalar(scalar)!] = UTF8Clue(rawValue: mask)
        }
        utf8Clues = clues
        widthMap = Self.scalarMap(GeneratedMojibakeData.widthMap)
        ligatures = Self.scalarMap(GeneratedMojibakeData.ligatures)
        singleQuotes = GeneratedTableText.ranges(GeneratedMojibakeData.singleQuoteRanges)
        doubleQuotes = GeneratedTableText.ranges(GeneratedMojibakeData.doubleQuoteRanges)
        controlCharacters = GeneratedTableText.ranges(GeneratedMojibakeData.controlCharacterRanges)
    }

    private static func scalarMap(_ text: String) -> [Unicode.Scalar: [Unicode.Scalar]] {
        var map: [Unicode.Scalar: [Unicode.Scalar]] = [:]
        for (key, scalars) in GeneratedTableText.mappings(text, separator: "=") {
            map[Unicode.Scalar(GeneratedTableText.hex(key))!] = scalars
        }
        return map
    }
}
