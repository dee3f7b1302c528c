import MultipartKit
import NIOCore

/// MultipartKit's parser (4.7.1, the newest available) looks each byte of a part's header name up
/// in a 128-entry table, so a byte ≥ 0x80 there is an out-of-range index: a trap that ends the
/// whole server (found by fuzzing). Each chunk first goes through a shadow parser that reads such
/// bytes as DEL, which no header name may hold and which every other state treats as it treats a
/// byte ≥ 0x80; the shadow throws where the real parser would trap, and otherwise ends in the very
/// state the real parser will, which then gets the chunk. The boundary must be ASCII for that.
final class GuardedMultipartParser {
    /// The parser whose callbacks the caller sets.
    let parser: MultipartParser
    private let shadow: MultipartParser
    private let asciiBoundary: Bool

    init(boundary: String) {
        parser = MultipartParser(boundary: boundary)
        shadow = MultipartParser(boundary: boundary)
        asciiBoundary = boundary.utf8.allSatisfy { $0 < 0x80 }
    }

    enum Refusal: Error { case nonASCIIBoundary, nonASCIIHeaderName }

    func execute(_ chunk: ByteBuffer) throws {
        guard asciiBoundary else { throw Refusal.nonASCIIBoundary }
        let view = chunk.readableBytesView
        if view.contains(where: { $0 >= 0x80 }) {
            do { try shadow.execute(ByteBuffer(bytes: view.map { $0 >= 0x80 ? 0x7F : $0 })) } catch {
                throw Refusal.nonASCIIHeaderName
            }
        } else {
            try shadow.execute(chunk)
        }
        try parser.execute(chunk)
    }
}
