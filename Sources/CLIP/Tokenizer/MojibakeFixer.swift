/// ftfy's `fix_encoding` with its default options: re-decodes text that was UTF-8 read through a
/// single-byte code page (cafÃ© -> café), including the partial repairs ftfy makes (bytes 0xA0
/// turned into spaces, sequences lost to U+FFFD, mojibake embedded in good text, C1 controls).
enum MojibakeFixer {
    /// Repeats one step of repair until the text no longer changes.
    static func fixEncoding<C: RandomAccessCollection<Unicode.Scalar>>(_ text: C) -> [Unicode.Scalar] where C.Index == Int {
        var text = Array(text)
        while true {
            let fixed = fixEncodingStep(text)
            if fixed == text { return text }
            text = fixed
        }
    }

    /// ftfy's `_fix_encoding_one_step_and_explain`.
    static func fixEncodingStep(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if text.isEmpty || text.allSatisfy(\.isASCII) || !MojibakeBadness.isBad(text) { return text }
        let tables = MojibakeTables.shared
        var latin1Possible = false
        for page in tables.codePages {
            guard var bytes = page.encode(text) else { continue }
            if page.name == "latin-1" { latin1Possible = true }
            if page.name != "macroman" && containsAlteredUTF8(bytes) { bytes = restoreByteA0(bytes) }
            if page.isSloppy { bytes = replaceLossySequences(bytes) }
            let variants = bytes.contains(0xED) || bytes.contains(0xC0)
            if let fixed = variants ? UTF8Variants.decodeVariants(bytes) : UTF8Variants.decodeStrict(bytes) {
                return fixed
            }
        }
        if containsUTF8Mojibake(text) {
            let fixed = decodeInconsistentUTF8(text)
            if fixed != text { return fixed }
        }
        // Latin-1 text that is not UTF-8 holds C1 controls: read it as windows-1252.
        if latin1Possible {
            let decoded = text.map { tables.strictWindows1252[Int($0.value)] }
            if !decoded.contains(nil) {
                let fixed = decoded.map { $0! }
                if fixed != text { return fixed }
            }
        }
        if text.contains(where: isC1Control) { return fixC1Controls(text) }
        return text
    }

    static func isC1Control(_ scalar: Unicode.Scalar) -> Bool {
        (0x80...0x9F).contains(scalar.value)
    }

    /// `fix_c1_controls`: each C1 control read as its windows-1252 byte.
    static func fixC1Controls(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains(where: isC1Control) else { return text }
        let page = MojibakeTables.shared.sloppyWindows1252
        return text.map { isC1Control($0) ? page.scalars[Int($0.value)] : $0 }
    }

    // MARK: byte-level repairs

    private typealias ByteSet = BytePattern.ByteSet
    private static let continuation = ByteSet(0x80...0xBF)
    /// Continuation bytes other than 0x85 and 0xA0.
    private static let likelyContinuation = ByteSet(0x80...0x84, 0x86...0x9F, 0xA1...0xBF)
    private static let space = ByteSet(0x20...0x20)

    /// ftfy's ALTERED_UTF8_RE: UTF-8 sequences whose 0xA0 became a space.
    private static let alteredUTF8: [BytePattern] = [
        BytePattern(ByteSet(0xC2...0xC3, 0xC5...0xC5, 0xCE...0xCE, 0xD0...0xD0, 0xD9...0xD9), space),
        BytePattern(ByteSet(0xE2...0xE3), space, likelyContinuation),
        BytePattern(ByteSet(0xE0...0xE3), likelyContinuation, space),
        BytePattern(ByteSet(0xF0...0xF0), space, continuation, continuation),
        BytePattern(ByteSet(0xF0...0xF0), continuation, space, continuation),
        BytePattern(ByteSet(0xF0...0xF0), continuation, continuation, space),
    ]

    private static let lost = ByteSet(0x1A...0x1A)
    private static let lostOrQuestion = ByteSet(0x1A...0x1A, 0x3F...0x3F)
    private static let lostOrContinuation = ByteSet(0x1A...0x1A, 0x80...0xBF)
    private static let anyOfThem = ByteSet(0x1A...0x1A, 0x3F...0x3F, 0x80...0xBF)
    private static let ed = ByteSet(0xED...0xED)

    /// ftfy's LOSSY_UTF8_RE: UTF-8 sequences with bytes lost to U+FFFD (0x1A in the sloppy
    /// codecs) or "?".
    private static let lossyUTF8: [BytePattern] = [
        BytePattern(ByteSet(0xC2...0xDF), lost),
        BytePattern(ByteSet(0xC2...0xC3), ByteSet(0x3F...0x3F)),
        BytePattern(ed, ByteSet(0xA0...0xAF), lostOrQuestion, ed, ByteSet(0xB0...0xBF), anyOfThem),
        BytePattern(ed, ByteSet(0xA0...0xAF), anyOfThem, ed, ByteSet(0xB0...0xBF), lostOrQuestion),
        BytePattern(ByteSet(0xE0...0xEF), lostOrQuestion, lostOrContinuation),
        BytePattern(ByteSet(0xE0...0xEF), lostOrContinuation, lostOrQuestion),
        BytePattern(ByteSet(0xF0...0xF4), lostOrQuestion, lostOrContinuation, lostOrContinuation),
        BytePattern(ByteSet(0xF0...0xF4), lostOrContinuation, lostOrQuestion, lostOrContinuation),
        BytePattern(ByteSet(0xF0...0xF4), lostOrContinuation, lostOrContinuation, lostOrQuestion),
        BytePattern(lost),
    ]

    static func containsAlteredUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.indices.contains { BytePattern.firstMatch(alteredUTF8, in: bytes, at: $0) != nil }
    }

    /// `restore_byte_a0`: "Ã " as a word keeps its space (à la), then spaces inside likely UTF-8
    /// sequences become 0xA0.
    static func restoreByteA0(_ bytes: [UInt8]) -> [UInt8] {
        var aGrave = [UInt8]()
        aGrave.reserveCapacity(bytes.count + 8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0xC3 && index + 1 < bytes.count && bytes[index + 1] == 0x20
                && !startsPortugueseException(bytes, at: index + 2) {
                aGrave.append(contentsOf: [0xC3, 0xA0, 0x20])
                index += 2
            } else {
                aGrave.append(bytes[index])
                index += 1
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(aGrave.count)
        index = 0
        while index < aGrave.count {
            if let length = BytePattern.firstMatch(alteredUTF8, in: aGrave, at: index) {
                out.append(contentsOf: aGrave[index..<index + length].map { $0 == 0x20 ? 0xA0 : $0 })
                index += length
            } else {
                out.append(aGrave[index])
                index += 1
            }
        }
        return out
    }

    /// A_GRAVE_WORD_RE's negative lookahead `(?! |quele|quela|quilo|s )`.
    private static func startsPortugueseException(_ bytes: [UInt8], at index: Int) -> Bool {
        for word in [" ", "quele", "quela", "quilo", "s "] {
            let utf8 = Array(word.utf8)
            if index + utf8.count <= bytes.count && Array(bytes[index..<index + utf8.count]) == utf8 { return true }
        }
        return false
    }

    /// `replace_lossy_sequences`: damaged UTF-8 sequences become the UTF-8 of U+FFFD.
    static func replaceLossySequences(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if let length = BytePattern.firstMatch(lossyUTF8, in: bytes, at: index) {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                index += length
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    // MARK: mojibake inside good text

    /// `UTF8_DETECTOR_RE.search`.
    static func containsUTF8Mojibake(_ text: [Unicode.Scalar]) -> Bool {
        text.indices.contains { utf8MojibakeEnd(text, at: $0) != nil }
    }

    /// `decode_inconsistent_utf8`: each run that looks like UTF-8 mojibake, and is bad on its own,
    /// is fixed on its own.
    static func decodeInconsistentUTF8(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            guard let end = utf8MojibakeEnd(text, at: index) else {
                out.append(text[index])
                index += 1
                continue
            }
            let run = text[index..<end]
            if run.count < text.count && MojibakeBadness.isBad(run) {
                out.append(contentsOf: fixEncoding(run))
            } else {
                out.append(contentsOf: run)
            }
            index = end
        }
        return out
    }

    /// End of a match of UTF8_DETECTOR_RE at `start`: not after a strict continuation character,
    /// then one or more lead characters each followed by its continuation characters.
    private static func utf8MojibakeEnd(_ text: [Unicode.Scalar], at start: Int) -> Int? {
        let clues = MojibakeTables.shared.utf8Clues
        func clue(_ index: Int) -> MojibakeTables.UTF8Clue {
            index < text.count ? clues[text[index]] ?? [] : []
        }
        func continues(_ index: Int, _ count: Int) -> Bool {
            (index..<index + count).allSatisfy { clue($0).contains(.continuation) }
        }
        if start > 0 && clue(start - 1).contains(.strictContinuation) { return nil }
        var index = start
        while true {
            let lead = clue(index)
            if lead.contains(.firstOfTwo) && continues(index + 1, 1) {
                index += 2
            } else if lead.contains(.firstOfThree) && continues(index + 1, 2) {
                index += 3
            } else if lead.contains(.firstOfFour) && continues(index + 1, 3) {
                index += 4
            } else {
                break
            }
        }
        return index > start ? index : nil
    }
}
