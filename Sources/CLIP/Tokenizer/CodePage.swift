/// A single-byte encoding that ftfy tries when it repairs mojibake (Python's codec, or ftfy's
/// "sloppy" variant that decodes every byte and stands 0x1A for U+FFFD).
struct CodePage: Sendable {
    let name: String
    /// The scalar each byte decodes to.
    let scalars: [Unicode.Scalar]
    private let bytes: [Unicode.Scalar: UInt8]

    init(name: String, table: String) {
        self.name = name
        scalars = GeneratedTableText.entries(table).map { Unicode.Scalar(GeneratedTableText.hex($0))! }
        precondition(scalars.count == 256, "code page \(name) must map 256 bytes")
        var bytes: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in scalars.enumerated() { bytes[scalar] = UInt8(byte) }
        self.bytes = bytes
    }

    /// ftfy's sloppy codecs, whose decoded text may stand for bytes lost as U+FFFD.
    var isSloppy: Bool { name.hasPrefix("sloppy-") }

    /// `text.encode(name)`, or nil where some scalar has no byte (ftfy's `possible_encoding`).
    func encode(_ text: [Unicode.Scalar]) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(text.count)
        for scalar in text {
            guard let byte = bytes[scalar] else { return nil }
            out.append(byte)
        }
        return out
    }
}
