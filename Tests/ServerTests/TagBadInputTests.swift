import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// Every bad tagging request gets the error shape with the right status and code, and the
/// server keeps serving good ones.
@Suite("Tagging bad input")
struct TagBadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let contentType: String?
        let query: String
        let body: [UInt8]
        let status: HTTPResponse.Status
        let code: String
        var param: String? = nil
        var messageContains: String? = nil
    }

    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func cases() throws -> [Case] {
        let png = try TagFixtures.image("png_rgb.png")
        let base64 = Data(png).base64EncodedString()
        return [
            Case(description: "unknown prompt set", contentType: "image/png", query: "prompt_set=nope", body: png,
                 status: .notFound, code: "prompt_set_not_found", param: "prompt_set", messageContains: "shapes"),
            Case(description: "unknown model", contentType: "image/png", query: "model=nope", body: png,
                 status: .notFound, code: "model_not_found", param: "model", messageContains: "tiny"),
            Case(description: "unknown model for zero-shot", contentType: "image/png", query: "model=nope&classes=a,b", body: png,
                 status: .notFound, code: "model_not_found", param: "model"),
            Case(description: "empty raw body", contentType: "image/png", query: "", body: [],
                 status: .unprocessableContent, code: "missing_image", param: "body"),
            Case(description: "no Content-Type", contentType: nil, query: "", body: png,
                 status: .unsupportedMediaType, code: "unsupported_media_type"),
            Case(description: "text/plain", contentType: "text/plain", query: "", body: png,
                 status: .unsupportedMediaType, code: "unsupported_media_type"),
            Case(description: "image/gif declared", contentType: "image/gif", query: "", body: png,
                 status: .unsupportedMediaType, code: "unsupported_media_type", messageContains: "image/gif"),
            Case(description: "GIF bytes sent as PNG", contentType: "image/png", query: "", body: Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8),
                 status: .unsupportedMediaType, code: "unsupported_image_format", param: "body", messageContains: "GIF"),
            Case(description: "truncated PNG", contentType: "image/png", query: "", body: Array(png.prefix(png.count / 2)),
                 status: .unprocessableContent, code: "invalid_image", param: "body"),
            Case(description: "broken JPEG", contentType: "image/jpeg", query: "", body: [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array(repeating: 0x41, count: 40),
                 status: .unprocessableContent, code: "invalid_image", param: "body"),
            Case(description: "unknown query option", contentType: "image/png", query: "topk=3", body: png,
                 status: .unprocessableContent, code: "unknown_parameter", param: "topk"),
            Case(description: "top_k not a number", contentType: "image/png", query: "top_k=many", body: png,
                 status: .unprocessableContent, code: "invalid_type", param: "top_k"),
            Case(description: "top_k zero", contentType: "image/png", query: "top_k=0", body: png,
                 status: .unprocessableContent, code: "invalid_value", param: "top_k"),
            Case(description: "threshold out of range", contentType: "image/png", query: "threshold=1.5", body: png,
                 status: .unprocessableContent, code: "invalid_value", param: "threshold"),
            Case(description: "prompt set and classes", contentType: "image/png", query: "prompt_set=shapes&classes=a", body: png,
                 status: .unprocessableContent, code: "invalid_value", param: "classes"),
            Case(description: "blank class", contentType: "image/png", query: "classes=cat,,dog", body: png,
                 status: .unprocessableContent, code: "invalid_value", param: "classes[1]"),
            Case(description: "repeated class", contentType: "image/png", query: "classes=cat,dog,cat", body: png,
                 status: .unprocessableContent, code: "invalid_value", param: "classes[2]"),
            Case(description: "option twice", contentType: "image/png", query: "top_k=1&top_k=2", body: png,
                 status: .unprocessableContent, code: "duplicate_option", param: "top_k"),
            Case(description: "malformed JSON", contentType: "application/json", query: "", body: json(#"{"images": ["#),
                 status: .badRequest, code: "invalid_json"),
            Case(description: "JSON without images", contentType: "application/json", query: "", body: json(#"{"classes": ["a"]}"#),
                 status: .unprocessableContent, code: "missing_parameter", param: "images"),
            Case(description: "JSON with no image", contentType: "application/json", query: "", body: json(#"{"images": []}"#),
                 status: .unprocessableContent, code: "missing_image", param: "images"),
            Case(description: "JSON base64 of the wrong type", contentType: "application/json", query: "", body: json(#"{"images": [{"base64": 12}]}"#),
                 status: .unprocessableContent, code: "invalid_type", param: "images[0].base64"),
            Case(description: "JSON invalid base64", contentType: "application/json", query: "", body: json(#"{"images": [{"base64": "not base64!"}]}"#),
                 status: .unprocessableContent, code: "invalid_base64", param: "images[0].base64"),
            Case(description: "JSON empty base64", contentType: "application/json", query: "", body: json(#"{"images": [{"base64": ""}]}"#),
                 status: .unprocessableContent, code: "missing_image", param: "images[0].base64"),
            Case(description: "JSON unknown field", contentType: "application/json", query: "", body: json(#"{"images": [{"base64": "\#(base64)"}], "topk": 2}"#),
                 status: .unprocessableContent, code: "unknown_parameter", param: "topk"),
            Case(description: "JSON unknown image field", contentType: "application/json", query: "", body: json(#"{"images": [{"data": "\#(base64)"}]}"#),
                 status: .unprocessableContent, code: "unknown_parameter", param: "images[0].data"),
            Case(description: "JSON classes not a list", contentType: "application/json", query: "", body: json(#"{"images": [{"base64": "\#(base64)"}], "classes": "cat"}"#),
                 status: .unprocessableContent, code: "invalid_type", param: "classes"),
            Case(description: "JSON empty classes", contentType: "application/json", query: "", body: json(#"{"images": [{"base64": "\#(base64)"}], "classes": []}"#),
                 status: .unprocessableContent, code: "invalid_value", param: "classes"),
            Case(description: "JSON with query options", contentType: "application/json", query: "top_k=1", body: json(#"{"images": [{"base64": "\#(base64)"}]}"#),
                 status: .unprocessableContent, code: "invalid_value", param: "query"),
            Case(description: "multipart without boundary", contentType: "multipart/form-data", query: "", body: png,
                 status: .badRequest, code: "invalid_multipart"),
        ]
    }

    @Test func everyCaseGetsItsStatusAndCode() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let cases = try Self.cases()
        let png = try TagFixtures.image("png_rgb.png")
        try await server.withReadyClient { client async throws in
            for c in cases {
                var headers: HTTPFields = [:]
                if let type = c.contentType { headers[.contentType] = type }
                let response = try await client.execute(uri: "/v1/tag" + (c.query.isEmpty ? "" : "?" + c.query), method: .post,
                                                        headers: headers, body: ByteBuffer(bytes: c.body))
                #expect(response.status == c.status, "\(c): \(String(buffer: response.body))")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(c)")
                let error = try TagErrorBody.decode(response)
                #expect(error.code == c.code, "\(c): \(error.message)")
                if let param = c.param { #expect(error.param == param, "\(c)") }
                if let text = c.messageContains { #expect(error.message.contains(text), "\(c): \(error.message)") }
                #expect(!error.message.isEmpty)
            }
            // Nothing above broke the server.
            let good = try await client.tagRaw(png)
            #expect(good.status == .ok)
        }
    }

    @Test func truncatedImageCarriesTheDecodersMessage() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        try await server.withReadyClient { client async throws in
            let response = try await client.tagRaw(Array(png.prefix(png.count - 20)))
            #expect(response.status == .unprocessableContent)
            let error = try TagErrorBody.decode(response)
            #expect(error.message.hasPrefix("body cannot be decoded: "))
            #expect(error.message.count > "body cannot be decoded: ".count + 5, "the decoder says what is wrong: \(error.message)")
        }
    }

    @Test func limitsAreEnforcedBeforeDecoding() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.limits.maxImagePixels = 100          // the fixture photos are larger than 10 × 10
        server.configuration.limits.maxImagesPerRequest = 2
        server.configuration.limits.maxBodyBytes = 64 * 1024
        let png = try TagFixtures.image("png_rgb.png")
        var three = MultipartBody()
        let small = try TagFixtures.image("png_bilevel.png")
        for i in 0..<3 { three.addFile(name: "images", filename: "\(i).png", type: "image/png", data: small) }
        let tooMany = three.upload
        let big = [UInt8](repeating: 0x41, count: 80 * 1024)
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            let pixels = try await client.tagRaw(png, query: "model=tiny&classes=a,b")
            #expect(pixels.status == .contentTooLarge)
            let pixelsError = try TagErrorBody.decode(pixels)
            #expect(pixelsError.code == "image_too_large")
            #expect(pixelsError.message.contains("limit is 100"), "\(pixelsError.message)")

            let images = try await client.tagMultipart(tooMany, query: "model=tiny&classes=a,b")
            #expect(images.status == .contentTooLarge)
            #expect(try TagErrorBody.decode(images).code == "too_many_images")

            let body = try await client.tagRaw(big)
            #expect(body.status == .contentTooLarge)
        }
    }

    @Test func brokenMultipartBodiesAreRefused() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        var form = MultipartBody()
        form.addFile(name: "images", filename: "a.png", type: "image/png", data: png)
        let complete = form.upload
        let truncated = MultipartUpload(contentType: complete.contentType, body: Array(complete.body.prefix(complete.body.count - 30)))
        let unclosed = MultipartUpload(contentType: complete.contentType, body: form.bytes)   // no closing --boundary--
        let wrongBoundary = MultipartUpload(contentType: "multipart/form-data; boundary=other", body: complete.body)
        var gif = MultipartBody()
        gif.addFile(name: "images", filename: "a.gif", type: "image/gif", data: Array("GIF89a".utf8))
        var empty = MultipartBody()
        empty.addFile(name: "images", filename: "a.png", type: "image/png", data: [])
        var unknownField = MultipartBody()
        unknownField.addFile(name: "images", filename: "a.png", type: "image/png", data: png)
        unknownField.addField(name: "colour", value: "red")
        let cases: [(String, MultipartUpload, HTTPResponse.Status, String)] = [
            ("truncated", truncated, .badRequest, "invalid_multipart"),
            ("unclosed", unclosed, .badRequest, "invalid_multipart"),
            ("wrong boundary", wrongBoundary, .badRequest, "invalid_multipart"),
            ("gif part", gif.upload, .unsupportedMediaType, "unsupported_media_type"),
            ("empty part", empty.upload, .unprocessableContent, "missing_image"),
            ("unknown field", unknownField.upload, .unprocessableContent, "unknown_parameter"),
        ]
        try await server.withReadyClient { client async throws in
            for (name, upload, status, code) in cases {
                let response = try await client.tagMultipart(upload)
                #expect(response.status == status, "\(name): \(String(buffer: response.body))")
                #expect(try TagErrorBody.decode(response).code == code, "\(name)")
            }
            #expect(try await client.tagMultipart(complete).status == .ok)
        }
    }
}
