import Hummingbird
import Testing
@testable import Server

/// The header-value and multipart parsing under the tagging route, on the awkward cases.
@Suite("Tagging multipart parsing")
struct TagMultipartParsingTests {
    @Test func headerValuesKeepQuotedSemicolonsAndEscapes() {
        let disposition = HeaderValue(parsing: #"form-data; name="images"; filename="a; b \"c\".png""#)
        #expect(disposition.value == "form-data")
        #expect(disposition.parameters["name"] == "images")
        #expect(disposition.parameters["filename"] == #"a; b "c".png"#)
        let type = HeaderValue(parsing: "Multipart/Form-Data ;  BOUNDARY=abc123")
        #expect(type.value == "multipart/form-data")
        #expect(type.parameters["boundary"] == "abc123")
        #expect(HeaderValue(parsing: "image/png").parameters.isEmpty)
    }

    @Test func partsAreSplitWithBodiesIntact() throws {
        let payload: [UInt8] = [0, 13, 10, 45, 45, 255, 13, 10]   // NUL, CRLF, "--", 0xFF, CRLF: binary that looks like delimiters
        var body = MultipartBody()
        body.addFile(name: "images", filename: "x.bin", type: "image/png", data: payload)
        body.addField(name: "top_k", value: "3")
        let form = try MultipartForm(body: ByteBuffer(bytes: body.finished()), contentType: HeaderValue(parsing: body.contentType), maxParts: 10)
        #expect(form.parts.count == 2)
        #expect(form.parts[0].body == payload)
        #expect(form.parts[0].filename == "x.bin")
        #expect(form.parts[0].contentType == "image/png")
        #expect(form.parts[1].name == "top_k")
        #expect(form.parts[1].body == Array("3".utf8))
    }

    @Test func truncationAndPartCountAreRefused() throws {
        var body = MultipartBody()
        for i in 0..<3 { body.addField(name: "f\(i)", value: "v") }
        let type = HeaderValue(parsing: body.contentType)
        let full = body.finished()
        #expect(try MultipartForm(body: ByteBuffer(bytes: full), contentType: type, maxParts: 3).parts.count == 3)
        #expect(throws: APIError.self) { try MultipartForm(body: ByteBuffer(bytes: full), contentType: type, maxParts: 2) }
        for cut in [1, 5, 20, full.count - 10] {
            #expect(throws: APIError.self, "cut at \(cut)") {
                try MultipartForm(body: ByteBuffer(bytes: Array(full.prefix(cut))), contentType: type, maxParts: 10)
            }
        }
        #expect(throws: APIError.self) { try MultipartForm(body: ByteBuffer(bytes: full), contentType: HeaderValue(parsing: "multipart/form-data"), maxParts: 10) }
    }
}
