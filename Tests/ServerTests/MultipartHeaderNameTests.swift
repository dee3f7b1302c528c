import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import Server

/// A byte ≥ 0x80 in a part's header name made MultipartKit's parser index past its 128-entry table:
/// a trap that ended the whole server, from one request to `POST /v1/tag` or `POST /v1/datasets`
/// (found by the multipart fuzz target; its input is Fuzz/regressions/multipart). Such bodies are
/// now malformed multipart, 400; bytes ≥ 0x80 in header values and bodies are still read.
@Suite("Multipart header names")
struct MultipartHeaderNameTests {
    static let boundary = "fuzz-boundary"

    static func body(headerName: [UInt8], value: String = "form-data; name=\"top_k\"") -> ByteBuffer {
        var bytes = Array("--\(boundary)\r\n".utf8) + headerName + Array(": \(value)\r\n\r\n2\r\n--\(boundary)--\r\n".utf8)
        return ByteBuffer(bytes: bytes)
    }

    @Test func theFuzzersInputIsRefusedByBothParsers() throws {
        let input = try Data(contentsOf: TagFixtures.repository.appendingPathComponent("Fuzz/regressions/multipart/non-ascii-header-name"))
        let body = ByteBuffer(bytes: input.dropFirst())   // the first byte is where the fuzz target cut the chunks
        #expect(throws: APIError.self) {
            try MultipartForm(body: body, contentType: HeaderValue(parsing: "multipart/form-data; boundary=\(Self.boundary)"), maxParts: 16)
        }
        let reader = MultipartZipReader(boundary: Self.boundary, handle: FileHandle(forWritingAtPath: "/dev/null")!)
        #expect(throws: APIError.self) {
            try reader.consume(body)
            _ = try reader.finish(file: URL(fileURLWithPath: "/dev/null"))
        }
    }

    @Test func aNonASCIIHeaderNameIsMalformedAndAUTF8ValueIsRead() throws {
        let contentType = HeaderValue(parsing: "multipart/form-data; boundary=\(Self.boundary)")
        #expect(throws: APIError.self) {
            try MultipartForm(body: Self.body(headerName: Array("Content-".utf8) + [0x83] + Array("isposition".utf8)),
                              contentType: contentType, maxParts: 16)
        }
        let utf8 = Self.body(headerName: Array("Content-Disposition".utf8), value: "form-data; name=\"images\"; filename=\"café.png\"")
        let form = try MultipartForm(body: utf8, contentType: contentType, maxParts: 16)
        #expect(form.parts.first?.filename == "café.png")
    }

    /// Through the routes: 400, and the server goes on answering.
    @Test func routesAnswer400AndKeepServing() async throws {
        let test = try TuningTestApp()
        try await test.application().test(.router) { client in
            let headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(Self.boundary)"]
            let bad = Self.body(headerName: [0x80, 0xFF])
            let tagged = try await client.execute(uri: "/v1/tag", method: .post, headers: headers, body: bad)
            #expect(tagged.status == .badRequest, "\(String(buffer: tagged.body))")
            let uploaded = try await client.execute(uri: "/v1/datasets", method: .post, headers: headers, body: bad)
            #expect(uploaded.status == .badRequest, "\(String(buffer: uploaded.body))")
            #expect(try DatasetFixtures.error(uploaded.body)["code"] as? String == "malformed_multipart")
            #expect(test.folder.storedDatasets.isEmpty)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }
}
