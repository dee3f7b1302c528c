import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// Status-code slips the December 2026 probe found in tagging requests: valid JSON with a bad
/// number is a 422 naming the field, class lists are bounded, control characters are refused.
@Suite("Tag input slips")
struct TagInputSlipsTests {
    @Test func badNumbersAre422WithTheirParam() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = Data(try TagFixtures.image("png_rgb.png")).base64EncodedString()
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            for (field, value, param) in [("top_k", "1.5", "top_k"), ("top_k", "1180591620717411303424", "top_k"),
                                          ("threshold", "1e400", "threshold")] {
                let body = #"{"images": [{"base64": "\#(png)"}], "\#(field)": \#(value)}"#
                let response = try await client.execute(uri: "/v1/tag", method: .post, headers: [.contentType: "application/json"],
                                                        body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent, "\(field)=\(value): \(String(buffer: response.body))")
                #expect(try TagErrorBody.decode(response).param == param)
            }
        }
    }

    @Test func classListsAreBoundedAndControlCharactersRefused() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            let tooMany = (0...TagOptions.maxClasses).map { "class \($0)" }.joined(separator: ",")
            let many = try await client.tagRaw(png, query: "classes=" + tooMany.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(many.status == .unprocessableContent)
            #expect(try TagErrorBody.decode(many).param == "classes")
            #expect(TagOptions.maxClasses == 256, "the documented cap")

            for name in ["cat%00", "%E2%80%AEtac", "a%1Bb"] {
                let response = try await client.tagRaw(png, query: "classes=dog," + name)
                #expect(response.status == .unprocessableContent, "\(name): \(String(buffer: response.body))")
                #expect(try TagErrorBody.decode(response).param == "classes[1]")
            }
            let fine = try await client.tagRaw(png, query: "classes=dog,caf%C3%A9")
            #expect(fine.status == .ok, "\(String(buffer: fine.body))")
        }
    }
}
