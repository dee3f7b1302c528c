import Foundation

/// Splits a text file's bytes into numbered lines without turning the whole file into a `String`:
/// `\n` ends a line, a `\r` before it is dropped (CRLF files), and a UTF-8 byte-order mark is skipped.
struct TextLines: Sequence {
    let bytes: Data

    struct Line {
        /// 1-based line number.
        let number: Int
        /// The line's bytes without its line ending (a slice sharing the file's storage).
        let bytes: Data

        /// The line as text, or nil when it is not valid UTF-8.
        var text: String? { String(data: bytes, encoding: .utf8) }

        /// Whether the line holds nothing but spaces and tabs.
        var isBlank: Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
    }

    func makeIterator() -> AnyIterator<Line> {
        let data = bytes
        var position = data.startIndex
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { position += 3 }
        var number = 0
        return AnyIterator {
            guard position < data.endIndex else { return nil }
            let newline = data[position...].firstIndex(of: 0x0A) ?? data.endIndex
            var end = newline
            if end > position, data[end - 1] == 0x0D { end -= 1 }
            let line = Line(number: number + 1, bytes: data[position..<end])
            number += 1
            position = newline < data.endIndex ? newline + 1 : data.endIndex
            return line
        }
    }
}
