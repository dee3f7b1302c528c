/// `ftfy.fix_text` with ftfy 6's default configuration.
///
/// Implemented steps, in ftfy's order and repeated until the text stops changing: unescape_html
/// ("auto": off from the first line containing "<" on), fix_encoding (see `MojibakeFixer`),
/// fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks,
/// remove_terminal_escapes, remove_control_chars, NFC. fix_surrogates has nothing to do: Swift
/// strings cannot hold surrogates.
enum TextFixer {
    /// ftfy fixes text line by line (each line keeps its "\n"), and in pieces of at most this many
    /// scalars.
    static let maximumSegmentLength = 1_000_000

    static func fixText(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if text.allSatisfy(isInert) { return text }
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        var unescapeHTML = true
        var start = 0
        while start < text.count {
            var end = (text[start...].firstIndex(of: "\n") ?? text.count - 1) + 1
            end = min(end, start + maximumSegmentLength)
            let segment = text[start..<end]
            if segment.contains("<") { unescapeHTML = false }
            out.append(contentsOf: fixSegment(Array(segment), unescapeHTML: unescapeHTML))
            start = end
        }
        return out
    }

    /// ASCII that no step changes: printable, tab, line feed, form feed; not "&".
    @inline(__always)
    private static func isInert(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x26: return false
        case 0x20...0x7E, 0x09, 0x0A, 0x0C: return true
        default: return false
        }
    }

    /// ftfy's `fix_and_explain` on one segment.
    static func fixSegment(_ segment: [Unicode.Scalar], unescapeHTML: Bool) -> [Unicode.Scalar] {
        var text = segment
        while true {
            let original = text
            if unescapeHTML { text = HTMLUnescaper.shared.ftfyUnescape(text) }
            text = MojibakeFixer.fixEncoding(text)
            text = MojibakeFixer.fixC1Controls(text)
            text = replacing(text, with: MojibakeTables.shared.ligatures)
            text = replacing(text, with: MojibakeTables.shared.widthMap)
            text = uncurlQuotes(text)
            text = fixLineBreaks(text)
            text = removeTerminalEscapes(text)
            text = removeControlCharacters(text)
            text = normalizedNFC(text)
            if text == original { return text }
        }
    }

    /// `str.translate` with a map from scalars to replacement text.
    static func replacing(_ text: [Unicode.Scalar], with map: [Unicode.Scalar: [Unicode.Scalar]]) -> [Unicode.Scalar] {
        guard text.contains(where: { !$0.isASCII && map[$0] != nil }) else { return text }
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        for scalar in text {
            if !scalar.isASCII, let replacement = map[scalar] {
                out.append(contentsOf: replacement)
            } else {
                out.append(scalar)
            }
        }
        return out
    }

    /// `uncurl_quotes`: curly single quotes (and U+02BC) become "'", curly double quotes "\"".
    static func uncurlQuotes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let tables = MojibakeTables.shared
        func replacement(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
            if scalar.isASCII { return nil }
            if tables.singleQuotes.contains(where: { $0.contains(scalar.value) }) { return "'" }
            if tables.doubleQuotes.contains(where: { $0.contains(scalar.value) }) { return "\"" }
            return nil
        }
        guard text.contains(where: { replacement($0) != nil }) else { return text }
        return text.map { replacement($0) ?? $0 }
    }

    /// `fix_line_breaks`: CRLF, CR, U+2028, U+2029 and U+0085 become "\n".
    static func fixLineBreaks(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        func isBreak(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\r" || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{85}"
        }
        guard text.contains(where: isBreak) else { return text }
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let scalar = text[index]
            if scalar == "\r" && index + 1 < text.count && text[index + 1] == "\n" { index += 1 }
            out.append(isBreak(scalar) ? "\n" : scalar)
            index += 1
        }
        return out
    }

    /// `remove_terminal_escapes`: ESC "[" (decimal digits or ";")* ASCII letter.
    static func removeTerminalEscapes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("\u{1B}") else { return text }
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "\u{1B}" && index + 1 < text.count && text[index + 1] == "[" {
                var end = index + 2
                while end < text.count && (text[end] == ";" || text[end].properties.generalCategory == .decimalNumber) {
                    end += 1
                }
                if end < text.count && (("A"..."Z").contains(text[end]) || ("a"..."z").contains(text[end])) {
                    index = end + 1
                    continue
                }
            }
            out.append(text[index])
            index += 1
        }
        return out
    }

    /// `remove_control_chars`: C0 controls other than tab, line feed, form feed and carriage
    /// return, DEL, deprecated format characters, BOM, interlinear annotation marks, U+FFFC.
    static func removeControlCharacters(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let ranges = MojibakeTables.shared.controlCharacters
        func isRemoved(_ scalar: Unicode.Scalar) -> Bool {
            ranges.contains { $0.contains(scalar.value) }
        }
        guard text.contains(where: isRemoved) else { return text }
        return text.filter { !isRemoved($0) }
    }

    /// Unicode NFC (skipped when no scalar is NFC-sensitive, the common case). The standard
    /// library's normaliser is used: Foundation's `precomposedStringWithCanonicalMapping`
    /// (swift-foundation on Linux) composes astral scalars wrongly (U+E0041 U+0306 -> U+0102).
    static func normalizedNFC(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let unicode = PythonUnicode.shared
        guard text.contains(where: { $0.value >= 0x300 && unicode.flags($0).contains(.nfcSensitive) }) else {
            return text
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text)
        return Array(String(decoding: String(view)._nfcCodeUnits, as: UTF8.self).unicodeScalars)
    }
}
