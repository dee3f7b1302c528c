import CLIP
import Compute
import Foundation
import Hummingbird
import HummingbirdTesting
import Imaging
import Testing
@testable import Server

/// `POST /v1/embeddings`: texts and images in OpenAI's shape, checked against the engine run
/// directly; the images share the batcher with tagging; bad input is refused by name.
@Suite("Embeddings route")
struct EmbeddingsRoutesTests {
    static let width = 32   // the tiny checkpoint's projection_dim

    /// Unit-length text and image features from the engine itself.
    static func engine() throws -> (texts: ([String]) throws -> [[Float]], images: ([[UInt8]]) throws -> [[Float]], model: CLIPModel) {
        let model = try CLIPModel(directory: TagFixtures.checkpoint("hf-tiny-f32"))
        let d = model.configuration.projectionDim
        func rows(_ flat: [Float]) -> [[Float]] {
            let unit = L2Normalize.rows(flat, width: d)
            return stride(from: 0, to: unit.count, by: d).map { Array(unit[$0..<($0 + d)]) }
        }
        return ({ rows(try model.encode(texts: $0)) }, { rows(try model.encode(images: try $0.map { try ImageDecoder.decode($0) })) }, model)
    }

    static func vectors(_ body: [String: Any]) -> [[Float]] {
        (body["data"] as! [[String: Any]]).map { item in
            if let text = item["embedding"] as? String {
                let data = Data(base64Encoded: text)!
                return stride(from: 0, to: data.count, by: 4).map { i in
                    Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
                }
            }
            return (item["embedding"] as! [Double]).map { Float($0) }
        }
    }

    static func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        precondition(a.count == b.count && zip(a, b).allSatisfy { $0.count == $1.count })
        return zip(a.joined(), b.joined()).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func textsAndImagesInOneRequestMatchTheEngineInOrder() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png"), jpeg = try TagFixtures.image("jpeg_baseline_420.jpg")
        let (texts, images, model) = try Self.engine()
        let expected = [try texts(["a photo of a cat"])[0], try images([png])[0], try texts(["a red forklift"])[0], try images([jpeg])[0]]
        let tokens = ["a photo of a cat", "a red forklift"].map { model.tokenizer.tokenize($0, contextLength: model.configuration.contextLength).count }
        try await server.withReadyClient { client async throws in
            let body: [String: Any] = ["input": ["a photo of a cat", ["image": Data(png).base64EncodedString()], ["text": "a red forklift"],
                                                 ["image": "data:image/jpeg;base64," + Data(jpeg).base64EncodedString()]]]
            let response = try await client.embeddings(body)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let answer = try jsonObject(response)
            #expect(answer["object"] as? String == "list")
            #expect(answer["model"] as? String == "tiny")
            #expect(answer["weights_sha256"] as? String == (try SHA256.hex(files: [TagFixtures.checkpoint("hf-tiny-f32/model.safetensors")])))
            let data = try #require(answer["data"] as? [[String: Any]])
            #expect(data.map { $0["index"] as? Int } == [0, 1, 2, 3])
            #expect(data.allSatisfy { $0["object"] as? String == "embedding" })
            let vectors = Self.vectors(answer)
            #expect(vectors.allSatisfy { $0.count == Self.width })
            #expect(Self.maxDifference(vectors, expected) < 1e-5, "the engine's unit-length features, in input order")
            let usage = try #require(answer["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == tokens.reduce(0, +))
            #expect(usage["total_tokens"] as? Int == tokens.reduce(0, +))
            #expect(usage["images"] as? Int == 2)
        }
    }

    @Test func aSingleStringBase64EncodingAndRawProjections() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let (_, _, model) = try Self.engine()
        let raw = try model.encode(texts: ["forklift"])
        try await server.withReadyClient { client async throws in
            let float = try jsonObject(try await client.embeddings(["input": "forklift", "model": "tiny"]))
            let base64 = try jsonObject(try await client.embeddings(["input": "forklift", "encoding_format": "base64", "user": "shop-7"]))
            #expect((base64["data"] as! [[String: Any]])[0]["embedding"] is String)
            #expect(Self.vectors(float) == Self.vectors(base64), "base64 carries the same float32 values exactly")
            let norm = Self.vectors(float)[0].reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
            let unnormalized = try jsonObject(try await client.embeddings(["input": ["forklift"], "normalize": false]))
            #expect(Self.maxDifference(Self.vectors(unnormalized), [raw]) < 1e-5, "normalize false: the raw projection")
        }
    }

    @Test func multipartKeepsThePartOrder() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        let (texts, images, _) = try Self.engine()
        var form = MultipartBody()
        form.addField(name: "input", value: "a dog")
        form.addFile(name: "image", filename: "shelf.png", type: "image/png", data: png)
        form.addField(name: "input", value: "a cat")
        form.addField(name: "encoding_format", value: "base64")
        let expected = [try texts(["a dog"])[0], try images([png])[0], try texts(["a cat"])[0]]
        let upload = form.upload
        try await server.withReadyClient { client async throws in
            let response = try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.contentType: upload.contentType],
                                                    body: ByteBuffer(bytes: upload.body))
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(Self.maxDifference(Self.vectors(try jsonObject(response)), expected) < 1e-5)
        }
    }

    @Test func imagesShareTheBatcherWithTagging() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        // A batch closes when 2 images wait: one tagging request's and one embeddings request's.
        server.configuration.batching = BatchingConfiguration(maxBatchSize: 2, maxWaitMilliseconds: 60_000, maxQueue: 64)
        let observer = RecordingObserver()
        let png = try TagFixtures.image("png_rgb.png")
        try await server.withReadyClient(dependencies: AppDependencies(inferenceObserver: observer)) { client async throws in
            let before = observer.batches.count
            async let tagged = client.tagRaw(png)
            async let embedded = client.embeddings(["input": [["image": Data(png).base64EncodedString()]]])
            let (tag, embedding) = try await (tagged, embedded)
            #expect(tag.status == .ok)
            #expect(embedding.status == .ok)
            let batches = Array(observer.batches.dropFirst(before))
            #expect(batches.map(\.size) == [2], "one encoder call for both requests")
            #expect(batches.first?.requests == 2)
        }
    }

    @Test func badInputIsRefusedByName() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.limits.maxImagesPerRequest = 2
        let png = Data(try TagFixtures.image("png_rgb.png")).base64EncodedString()
        let image: [String: Any] = ["image": png]
        let bodies: [(String, Any, HTTPResponse.Status, String, String?)] = [
            ("no input", ["model": "tiny"], .unprocessableContent, "missing_parameter", "input"),
            ("empty input", ["input": [String]()], .unprocessableContent, "missing_input", "input"),
            ("unknown field", ["input": "a", "dimensions": 8], .unprocessableContent, "unknown_parameter", "dimensions"),
            ("token ids", ["input": [[101, 102]]], .unprocessableContent, "invalid_type", "input[0]"),
            ("unknown item field", ["input": [["video": "x"]]], .unprocessableContent, "unknown_parameter", "input[0].video"),
            ("text and image", ["input": [["text": "a", "image": png]]], .unprocessableContent, "invalid_value", "input[0]"),
            ("bad base64", ["input": ["a", ["image": "%%%"]]], .unprocessableContent, "invalid_base64", "input[1].image"),
            ("broken image", ["input": ["a", ["image": Data("not an image".utf8).base64EncodedString()]]],
             .unsupportedMediaType, "unsupported_image_format", "input[1].image"),
            ("truncated png", ["input": [["image": String(png.prefix(200))]]], .unprocessableContent, "invalid_image", "input[0].image"),
            ("bad encoding", ["input": "a", "encoding_format": "int8"], .unprocessableContent, "invalid_value", "encoding_format"),
            ("normalize not a bool", ["input": "a", "normalize": "yes"], .unprocessableContent, "invalid_type", "normalize"),
            ("too many images", ["input": [image, image, image]], .contentTooLarge, "too_many_images", "input"),
            ("too many texts", ["input": Array(repeating: "a", count: EmbeddingsRequest.maxTexts + 1)], .contentTooLarge, "too_many_texts", "input"),
            ("long text", ["input": [String(repeating: "a", count: EmbeddingsRequest.maxTextLength + 1)]], .unprocessableContent,
             "invalid_value", "input[0]"),
            ("unknown model", ["input": "a", "model": "nope"], .notFound, "model_not_found", "model"),
        ]
        let cases = try bodies.map { ($0.0, try JSONSerialization.data(withJSONObject: $0.1), $0.2, $0.3, $0.4) }
        try await server.withReadyClient { client async throws in
            for (name, body, status, code, param) in cases {
                let response = try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.contentType: "application/json"],
                                                        body: ByteBuffer(data: body))
                #expect(response.status == status, "\(name): \(String(buffer: response.body))")
                let error = try TagErrorBody.decode(response)
                #expect(error.code == code, "\(name): \(error.message)")
                #expect(error.param == param, "\(name)")
            }
            let text = try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.contentType: "text/plain"],
                                                body: ByteBuffer(string: "a cat"))
            #expect(text.status == .unsupportedMediaType)
            let query = try await client.execute(uri: "/v1/embeddings?model=tiny", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"input": "a"}"#))
            #expect(query.status == .unprocessableContent)
            #expect(try TagErrorBody.decode(query).param == "model")
            let get = try await client.execute(uri: "/v1/embeddings", method: .get)
            #expect(get.status == .methodNotAllowed)
        }
    }
}

extension TestClientProtocol {
    func embeddings(_ object: Any, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await execute(uri: "/v1/embeddings", method: .post, headers: fields,
                                 body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
    }
}
