/// ftfy's `is_bad`: whether text contains a character sequence that is far more likely mojibake
/// than intended (`ftfy.badness.BADNESS_RE`, transcribed by the fixture script into
/// `GeneratedMojibakeData.badnessPatterns`).
enum MojibakeBadness {
    static func isBad(_ text: ArraySlice<Unicode.Scalar>) -> Bool {
        isBad(Array(text))
    }

    static func isBad(_ text: [Unicode.Scalar]) -> Bool {
        let tables = MojibakeTables.shared
        let masks = text.map(tables.badnessMask)
        var checkedUpTo = 0
        for position in masks.indices {
            if tables.everyBadnessRuleNeedsNonASCII {
                // A match needs a scalar of a non-ASCII class within its length: start only in the
                // window before such a scalar.
                guard masks[position] & tables.nonASCIIClasses != 0 else { continue }
                for start in max(checkedUpTo, position - tables.longestBadnessRule + 1)...position
                where matchesAnyRule(at: start, text: text, masks: masks, tables: tables) {
                    return true
                }
                checkedUpTo = position + 1
            } else if matchesAnyRule(at: position, text: text, masks: masks, tables: tables) {
                return true
            }
        }
        return false
    }

    private static func matchesAnyRule(
        at position: Int, text: [Unicode.Scalar], masks: [UInt128], tables: MojibakeTables
    ) -> Bool {
        tables.badnessRuleCodes.withUnsafeBufferPointer { codes in
            masks.withUnsafeBufferPointer { masks in
                text.withUnsafeBufferPointer { text in
                    for rule in tables.badnessRules where matches(codes[rule], at: position, text: text, masks: masks) {
                        return true
                    }
                    return false
                }
            }
        }
    }

    @inline(__always)
    private static func matches(
        _ rule: Slice<UnsafeBufferPointer<Int8>>, at position: Int,
        text: UnsafeBufferPointer<Unicode.Scalar>, masks: UnsafeBufferPointer<UInt128>
    ) -> Bool {
        var index = position
        for code in rule {
            if code == -5 {  // "^": zero-width, only at the start of the text
                if index != 0 { return false }
                continue
            }
            guard index < masks.count, accepts(code, text[index], masks[index]) else { return false }
            index += 1
        }
        return true
    }

    @inline(__always)
    private static func accepts(_ code: Int8, _ scalar: Unicode.Scalar, _ mask: UInt128) -> Bool {
        switch code {
        case 0...: return (mask &>> UInt128(UInt8(code))) & 1 == 1
        case -1: return PythonUnicode.shared.isSpace(scalar)
        case -2: return PythonUnicode.shared.flags(scalar).contains(.word)
        case -3: return !(("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar))
        default: return scalar != "\n"  // -4: "."
        }
    }
}
