/// GPT-2's byte-to-unicode table (`bytes_to_unicode`): each byte stands for a printable scalar,
/// so BPE symbols never contain whitespace or control characters.
enum ByteLevelAlphabet {
    /// The 256 bytes in the order CLIP numbers them: printable bytes first (0x21...0x7E,
    /// 0xA1...0xAC, 0xAE...0xFF), then the others in byte order.
    static let bytesInVocabularyOrder: [UInt8] = {
        let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        let others = (0...255).filter { !printable.contains($0) }
        return (printable + others).map { UInt8($0) }
    }()

    /// The scalar standing for each byte: printable bytes stand for themselves, the others for
    /// U+0100 onwards in byte order.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\u{0}", count: 256)
        var next: UInt32 = 0x100
        let printable = Set(bytesInVocabularyOrder.prefix(188))
        for byte in 0...255 {
            if printable.contains(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// UTF-8 of the symbol that stands for `byte`, with "</w>" when it ends a word.
    static func symbol(for byte: UInt8, endOfWord: Bool) -> [UInt8] {
        Array(String(Character(scalarForByte[Int(byte)])).utf8) + (endOfWord ? Array("</w>".utf8) : [])
    }
}
