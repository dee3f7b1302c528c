import Hummingbird
import MultipartKit

/// A `multipart/form-data` body split into its parts with MultipartKit's parser, strictly:
/// a body that ends inside a part (truncated, or the boundary is wrong) or has no part at all is
/// refused instead of yielding whatever was read.
package struct MultipartForm {
    struct Part {
        /// `name` of its Content-Disposition.
        let name: String?
        let filename: String?
        /// Its Content-Type's media type, lowercased.
        let contentType: String?
        let body: [UInt8]
    }

    let parts: [Part]

    package init(body: ByteBuffer, contentType: HeaderValue, maxParts: Int) throws {
        guard let boundary = contentType.parameters["boundary"], (1...70).contains(boundary.utf8.count) else {
            throw APIError(.badRequest, code: "invalid_multipart",
                           message: "multipart/form-data needs a boundary parameter of 1 to 70 characters in Content-Type")
        }
        let guarded = GuardedMultipartParser(boundary: boundary)
        let parser = guarded.parser
        var parts: [Part] = []
        var headers: [(String, String)] = []
        var bytes: [UInt8] = []
        var open = false
        var tooMany = false
        parser.onHeader = { name, value in
            open = true
            headers.append((name.lowercased(), value))
        }
        parser.onBody = { buffer in
            open = true
            bytes += buffer.readableBytesView
        }
        parser.onPartComplete = {
            defer { headers = []; bytes = []; open = false }
            guard parts.count < maxParts else { tooMany = true; return }
            let disposition = headers.first { $0.0 == "content-disposition" }.map { HeaderValue(parsing: $0.1) }
            let type = headers.first { $0.0 == "content-type" }.map { HeaderValue(parsing: $0.1).value }
            parts.append(Part(name: disposition?.parameters["name"], filename: disposition?.parameters["filename"],
                              contentType: type, body: bytes))
        }
        do {
            try guarded.execute(body)
        } catch {
            throw APIError(.badRequest, code: "invalid_multipart", message: "the multipart body is malformed (bad part headers)")
        }
        if tooMany {
            throw APIError(.contentTooLarge, code: "too_many_parts", message: "the multipart body has more than \(maxParts) parts")
        }
        if open || !Self.contains(body, closingDelimiterOf: boundary) {
            throw APIError(.badRequest, code: "invalid_multipart",
                           message: "the multipart body ends inside a part: it is truncated, or lacks the closing --\(boundary)--")
        }
        guard !parts.isEmpty else {
            throw APIError(.badRequest, code: "invalid_multipart",
                           message: "the multipart body has no part delimited by --\(boundary)")
        }
        self.parts = parts
    }

    /// Whether `--boundary--` occurs (searched from the end, where it belongs). The boundary
    /// never occurs inside a part, so its absence means the body was cut short.
    static func contains(_ body: ByteBuffer, closingDelimiterOf boundary: String) -> Bool {
        let pattern = Array("--\(boundary)--".utf8)
        let bytes = body.readableBytesView
        guard bytes.count >= pattern.count else { return false }
        var start = bytes.endIndex - pattern.count
        while start >= bytes.startIndex {
            if bytes[start] == pattern[0] && bytes[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
            start -= 1
        }
        return false
    }
}
