/// CLIP's split pattern, written out by hand over Unicode scalars:
/// `<special tokens>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`, case-insensitive,
/// alternatives tried in that order at each position, with the classes of Python's `regex` module.
struct PreTokenizer: Sendable {
    /// A piece of the text: its scalar range, and the special token it is, if it is one exactly.
    struct Piece {
        let range: Range<Int>
        let specialIndex: Int?
    }

    /// Special-token names matched in the text (open_clip builds them into its pattern).
    let specialTokens: [[Unicode.Scalar]]
    /// Scalars a special token can start with (case-insensitively), to skip the check elsewhere.
    private let specialTokenStarts: [Unicode.Scalar]

    init(specialTokens: [[Unicode.Scalar]]) {
        self.specialTokens = specialTokens
        let caseVariants = (Array(0x41...0x5A) + Array(0x61...0x7A) + [0x130, 0x17F, 0x212A]).map { Unicode.Scalar(UInt32($0))! }
        var starts: [Unicode.Scalar] = []
        for first in specialTokens.compactMap(\.first) {
            starts += [first] + caseVariants.filter { Self.equalIgnoringCase($0, first) && $0 != first }
        }
        specialTokenStarts = starts
    }

    private static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map {
        Array($0.unicodeScalars)
    }

    /// Calls `body` with each piece in order until it returns false.
    func forEachPiece(in text: [Unicode.Scalar], _ body: (Piece) -> Bool) {
        let unicode = PythonUnicode.shared
        var index = 0
        while index < text.count {
            if specialTokenStarts.contains(text[index]), let (length, special) = specialToken(in: text, at: index) {
                if !body(Piece(range: index..<index + length, specialIndex: special)) { return }
                index += length
                continue
            }
            if text[index] == "'", let length = contraction(in: text, at: index) {
                if !body(Piece(range: index..<index + length, specialIndex: nil)) { return }
                index += length
                continue
            }
            let flags = unicode.flags(text[index])
            var end = index + 1
            if flags.contains(.letter) {
                while end < text.count && unicode.flags(text[end]).contains(.letter) { end += 1 }
            } else if flags.contains(.other) {
                while end < text.count && unicode.flags(text[end]).contains(.other) { end += 1 }
            } else if !flags.contains(.number) {
                index += 1  // whitespace, and scalars no alternative matches
                continue
            }
            if !body(Piece(range: index..<end, specialIndex: nil)) { return }
            index = end
        }
    }

    /// The first special token matching at `index` (case-insensitively, as the pattern does), its
    /// length, and its index when the text spells it exactly.
    private func specialToken(in text: [Unicode.Scalar], at index: Int) -> (Int, Int?)? {
        for (tokenIndex, token) in specialTokens.enumerated() where Self.matches(token, in: text, at: index) {
            let exact = text[index..<index + token.count].elementsEqual(token)
            return (token.count, exact ? tokenIndex : nil)
        }
        return nil
    }

    private func contraction(in text: [Unicode.Scalar], at index: Int) -> Int? {
        Self.contractions.first { Self.matches($0, in: text, at: index) }?.count
    }

    private static func matches(_ literal: [Unicode.Scalar], in text: [Unicode.Scalar], at index: Int) -> Bool {
        guard index + literal.count <= text.count else { return false }
        for (offset, expected) in literal.enumerated() where !equalIgnoringCase(text[index + offset], expected) {
            return false
        }
        return true
    }

    /// Case-insensitive equality as the `regex` module applies it to an ASCII literal: the other
    /// case, and the three non-ASCII scalars that fold to ASCII letters.
    private static func equalIgnoringCase(_ scalar: Unicode.Scalar, _ expected: Unicode.Scalar) -> Bool {
        if scalar == expected { return true }
        guard ("a"..."z").contains(expected) || ("A"..."Z").contains(expected) else { return false }
        let lower = expected.value | 0x20
        switch scalar.value {
        case 0x41...0x5A, 0x61...0x7A: return scalar.value | 0x20 == lower
        case 0x130: return lower == 0x69  // İ ~ i
        case 0x17F: return lower == 0x73  // ſ ~ s
        case 0x212A: return lower == 0x6B  // Kelvin sign ~ k
        default: return false
        }
    }
}
