/// Python's `html.unescape` and ftfy's stricter `unescape_html`, over Unicode scalars.
final class HTMLUnescaper: Sendable {
    static let shared = HTMLUnescaper()

    /// `html.entities.html5`: names with and without the trailing ";" as the standard lists them.
    /// Keys are scalar arrays, not `String`s, whose equality would be canonical equivalence
    /// (U+212A KELVIN SIGN would equal "K").
    private let html5: [[Unicode.Scalar]: [Unicode.Scalar]]
    /// ftfy's `HTML_ENTITIES`: the html5 names that end in ";" plus upper-cased variants.
    private let ftfyEntities: [[Unicode.Scalar]: [Unicode.Scalar]]
    private let invalidCharrefs: [UInt32: [Unicode.Scalar]]
    private let invalidCodepoints: [ClosedRange<UInt32>]
    /// The longest html5 name, in scalars.
    private let longestName: Int

    private init() {
        var html5: [[Unicode.Scalar]: [Unicode.Scalar]] = [:]
        for (name, scalars) in GeneratedTableText.mappings(GeneratedHTMLEntityData.html5Entities, separator: "=") {
            html5[Array(name.unicodeScalars)] = scalars
        }
        var ftfy = html5.filter { $0.key.last == ";" }
        for (name, scalars) in GeneratedTableText.mappings(GeneratedHTMLEntityData.ftfyUppercaseEntities, separator: "=") {
            ftfy[Array(name.unicodeScalars)] = scalars
        }
        var charrefs: [UInt32: [Unicode.Scalar]] = [:]
        for (number, scalars) in GeneratedTableText.mappings(GeneratedHTMLEntityData.invalidCharrefs, separator: "=") {
            charrefs[GeneratedTableText.hex(number)] = scalars
        }
        self.html5 = html5
        self.ftfyEntities = ftfy
        self.invalidCharrefs = charrefs
        self.invalidCodepoints = GeneratedTableText.ranges(GeneratedHTMLEntityData.invalidCodepointRanges)
        self.longestName = html5.keys.map(\.count).max() ?? 0
    }

    /// Python's `html.unescape`: numeric references (with HTML5's replacements for invalid
    /// numbers) and named references, including legacy names without ";" and the longest-prefix
    /// rule for unknown names.
    func unescape(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let scalar = text[index]
            if scalar == "&", let (replacement, end) = reference(in: text, at: index) {
                out.append(contentsOf: replacement)
                index = end
            } else {
                out.append(scalar)
                index += 1
            }
        }
        return out
    }

    /// The character reference starting at `start` ("&"), as `html._charref` matches it, with its
    /// replacement and the index after it; nil where the expression does not match.
    private func reference(in text: [Unicode.Scalar], at start: Int) -> ([Unicode.Scalar], Int)? {
        var index = start + 1
        guard index < text.count else { return nil }
        if text[index] == "#" {
            index += 1
            guard index < text.count else { return nil }
            let hexadecimal = text[index] == "x" || text[index] == "X"
            if hexadecimal { index += 1 }
            let digitsStart = index
            var value: UInt64 = 0
            while index < text.count, let digit = Self.digitValue(text[index], hexadecimal: hexadecimal) {
                // Saturate: every number above U+10FFFF gets the same replacement.
                value = min(value * (hexadecimal ? 16 : 10) + UInt64(digit), 0x1_0000_0000)
                index += 1
            }
            guard index > digitsStart else { return nil }
            if index < text.count && text[index] == ";" { index += 1 }
            return (numericReplacement(value), index)
        }
        var nameEnd = index
        while nameEnd < text.count && nameEnd - index < 32 && !Self.endsName(text[nameEnd]) { nameEnd += 1 }
        guard nameEnd > index else { return nil }
        if nameEnd < text.count && text[nameEnd] == ";" { nameEnd += 1 }
        let name = text[index..<nameEnd]
        if let value = html5[Array(name)] { return (value, nameEnd) }
        // The longest known prefix of at least 2 scalars, the rest kept as is.
        var length = min(name.count - 1, longestName)
        while length >= 2 {
            if let value = html5[Array(name.prefix(length))] {
                return (value + name.dropFirst(length), nameEnd)
            }
            length -= 1
        }
        return (Array(text[start..<nameEnd]), nameEnd)
    }

    private func numericReplacement(_ value: UInt64) -> [Unicode.Scalar] {
        if value <= 0xFF, let replacement = invalidCharrefs[UInt32(value)] { return replacement }
        if (0xD800...0xDFFF).contains(value) || value > 0x10FFFF { return ["\u{FFFD}"] }
        let scalar = UInt32(value)
        if invalidCodepoints.contains(where: { $0.contains(scalar) }) { return [] }
        return [Unicode.Scalar(scalar)!]
    }

    /// ftfy's `unescape_html`: only `&name;` forms (1 to 24 ASCII letters or digits) known to
    /// ftfy, and numeric forms that `html.unescape` decodes whole.
    func ftfyUnescape(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            guard text[index] == "&", let end = Self.ftfyEntityEnd(text, at: index) else {
                out.append(text[index])
                index += 1
                continue
            }
            let match = Array(text[index..<end])
            if let value = ftfyEntities[Array(match.dropFirst())] {
                out.append(contentsOf: value)
            } else if match[1] == "#" {
                let unescaped = unescape(match)
                out.append(contentsOf: unescaped.contains(";") ? match : unescaped)
            } else {
                out.append(contentsOf: match)
            }
            index = end
        }
        return out
    }

    /// End of a match of ftfy's `&#?[0-9A-Za-z]{1,24};` at `start`.
    private static func ftfyEntityEnd(_ text: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start + 1
        if index < text.count && text[index] == "#" { index += 1 }
        let nameStart = index
        while index < text.count && index - nameStart < 24 && isASCIIAlphanumeric(text[index]) { index += 1 }
        guard index > nameStart, index < text.count, text[index] == ";" else { return nil }
        return index + 1
    }

    private static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return false
        }
    }

    /// `[^\t\n\f <&#;]` fails on these.
    private static func endsName(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\u{0C}", " ", "<", "&", "#", ";": return true
        default: return false
        }
    }

    private static func digitValue(_ scalar: Unicode.Scalar, hexadecimal: Bool) -> UInt32? {
        switch scalar.value {
        case 0x30...0x39: return scalar.value - 0x30
        case 0x41...0x46 where hexadecimal: return scalar.value - 0x41 + 10
        case 0x61...0x66 where hexadecimal: return scalar.value - 0x61 + 10
        default: return nil
        }
    }
}
