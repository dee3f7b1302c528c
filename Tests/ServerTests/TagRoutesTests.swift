import CLIP
import Compute
import Foundation
import Hummingbird
import HummingbirdTesting
import Imaging
import Testing
import Tuning
@testable import Server

/// `POST /v1/tag` in its three request shapes, with prompt sets and zero-shot classes, checked
/// against the engine run directly on the same images.
@Suite("Tagging routes")
struct TagRoutesTests {
    /// Scores of `bytes` with the template prompt set, computed by the engine directly.
    static func expectedScores(_ bytes: [UInt8]) async throws -> [String: Float] {
        let model = try CLIPModel(directory: TagFixtures.checkpoint("hf-tiny-f32"))
        let set = try PromptSet.load(from: try await TagFixtures.promptSetTemplate(), for: model)
        let features = L2Normalize.rows(try model.encode(images: [try ImageDecoder.decode(bytes)]), width: model.configuration.projectionDim)
        let scores = set.scores(imageFeatures: features, logitScale: model.logitScale)
        return Dictionary(uniqueKeysWithValues: zip(set.manifest.classes, scores))
    }

    static func labels(_ result: [String: Any]) -> [[String: Any]] { result["labels"] as! [[String: Any]] }

    @Test func rawPNGIsTaggedWithTheDefaultPromptSet() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        let expected = try await Self.expectedScores(png)
        try await server.withReadyClient { client async throws in
            let response = try await client.tagRaw(png, type: "image/png")
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let body = try jsonObject(response)
            #expect(body["model"] as? String == "tiny")
            #expect(body["prompt_set"] as? String == "shapes")
            #expect(body["mode"] as? String == "prompt_set")
            #expect(body["weights_sha256"] as? String == (try SHA256.hex(files: [TagFixtures.checkpoint("hf-tiny-f32/model.safetensors")])))
            let results = try #require(body["results"] as? [[String: Any]])
            #expect(results.count == 1)
            #expect(results[0]["width"] as? Int != nil && results[0]["height"] as? Int != nil)
            let labels = Self.labels(results[0])
            #expect(Set(labels.map { $0["label"] as! String }) == Set(TagFixtures.classes))
            let scores = labels.map { Float($0["score"] as! Double) }
            #expect(scores == scores.sorted(by: >), "labels are sorted by score")
            for label in labels {
                let score = Float(label["score"] as! Double), threshold = Float(label["threshold"] as! Double)
                #expect(abs(score - expected[label["label"] as! String]!) < 1e-4, "the same score as the engine run directly")
                #expect(threshold == 0.5)
                #expect(label["present"] as? Bool == (score >= threshold))
            }
            let timings = try #require(results[0]["timings"] as? [String: Any])
            for key in ["decode_ms", "queue_ms", "inference_ms"] { #expect((timings[key] as? Double ?? -1) >= 0, "\(key)") }
            #expect(timings["batch_size"] as? Int == 1)
            #expect((body["timings"] as? [String: Any])?["total_ms"] is Double)
        }
    }

    @Test func rawJPEGWithQueryOptions() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let jpeg = try TagFixtures.image("jpeg_baseline_420.jpg")
        try await server.withReadyClient { client async throws in
            let response = try await client.tagRaw(jpeg, type: "image/jpeg", query: "prompt_set=shapes&top_k=2&threshold=0.25")
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let labels = Self.labels((try jsonObject(response)["results"] as! [[String: Any]])[0])
            #expect(labels.count == 2, "top_k cuts the list")
            #expect(labels.allSatisfy { ($0["threshold"] as! Double) == 0.25 }, "one threshold for every class")
            let expected = try await Self.expectedScores(jpeg)
            let best = expected.max { $0.value < $1.value }!
            #expect(labels[0]["label"] as? String == best.key)
        }
    }

    @Test func multipartWithTwoImagesAndAFormOption() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png"), jpeg = try TagFixtures.image("jpeg_orientation_6.jpg")
        var form = MultipartBody()
        form.addFile(name: "images", filename: "first.png", type: "image/png", data: png)
        form.addFile(name: "images", filename: "second; \"quoted\".jpg", type: "image/jpeg", data: jpeg)
        form.addField(name: "top_k", value: "1")
        let upload = form.upload
        try await server.withReadyClient { client async throws in
            let response = try await client.tagMultipart(upload)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let results = try #require(try jsonObject(response)["results"] as? [[String: Any]])
            #expect(results.map { $0["index"] as? Int } == [0, 1])
            #expect(results.map { $0["filename"] as? String } == ["first.png", #"second; \"quoted\".jpg"#.replacingOccurrences(of: "\\", with: "")])
            #expect(results.allSatisfy { Self.labels($0).count == 1 })
            for (result, bytes) in zip(results, [png, jpeg]) {
                let expected = try await Self.expectedScores(bytes)
                let label = Self.labels(result)[0]
                #expect(label["label"] as? String == expected.max { $0.value < $1.value }!.key)
                #expect(abs(Float(label["score"] as! Double) - expected[label["label"] as! String]!) < 1e-4)
            }
        }
    }

    @Test func jsonBase64WithZeroShotClassesMatchesTheEngine() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgba.png")
        let classes = ["red square", "blue circle", "forklift", "pallet"]
        let model = try CLIPModel(directory: TagFixtures.checkpoint("hf-tiny-f32"))
        let direct = try ZeroShotClassifier(model: model, classNames: classes)
            .labels(imageFeatures: try model.encode(images: [try ImageDecoder.decode(png)]))[0]
        try await server.withReadyClient { client async throws in
            for encoded in [Data(png).base64EncodedString(), "data:image/png;base64," + Data(png).base64EncodedString()] {
                let response = try await client.tagJSON(["images": [["base64": encoded]], "classes": classes])
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let body = try jsonObject(response)
                #expect(body["mode"] as? String == "zero_shot")
                #expect(body["prompt_set"] is NSNull)
                let labels = Self.labels((body["results"] as! [[String: Any]])[0])
                #expect(labels.count == classes.count)
                let total = labels.reduce(0.0) { $0 + ($1["score"] as! Double) }
                #expect(abs(total - 1) < 1e-4, "zero-shot scores are a softmax over the given classes")
                for label in labels {
                    let reference = direct.first { $0.label == label["label"] as! String }!
                    #expect(abs(Float(label["score"] as! Double) - reference.score) < 1e-4)
                    #expect(abs(Float(label["logit"] as! Double) - reference.logit!) < 1e-3)
                    #expect(label["threshold"] as? Double == 0.5)
                }
            }
        }
    }

    @Test func bothCheckpointLayoutsServeZeroShot() async throws {
        let server = try await TagTestServer(models: ["tiny": "hf-tiny-f32", "oc": "openclip-tiny-f32", "sharded": "hf-tiny-sharded"])
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            // Three encoders and no models.default: the default is the prompt set's encoder only if configured,
            // so zero-shot requests name their model.
            for model in ["oc", "sharded", "tiny"] {
                let response = try await client.tagRaw(png, query: "model=\(model)&classes=cat,dog")
                #expect(response.status == .ok, "\(model): \(String(buffer: response.body))")
                #expect(try jsonObject(response)["model"] as? String == model)
            }
            let models = try await client.execute(uri: "/v1/models", method: .get)
            let data = try #require(try jsonObject(models)["data"] as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == ["oc", "sharded", "tiny"])
            #expect(data.map { $0["layout"] as? String } == ["open_clip", "huggingface", "huggingface"])
            #expect(data.allSatisfy { $0["loaded"] as? Bool == true })
        }
    }

    @Test func aNewPromptSetIsServedWithoutARestart() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        try await server.withReadyClient { client async throws in
            let before = try await client.tagRaw(png, query: "prompt_set=fresh")
            #expect(before.status == .notFound)
            #expect(try TagErrorBody.decode(before).code == "prompt_set_not_found")
            // As the job worker does: tune, then write the folder atomically into the prompt-sets folder.
            let model = try CLIPModel(directory: server.modelsFolder.appendingPathComponent("tiny"))
            try TagFixtures.tunePromptSet(model: model, encoderName: "tiny", id: "fresh", seed: 7,
                                          into: server.promptSetsFolder.appendingPathComponent("fresh"))
            let after = try await client.tagRaw(png, query: "prompt_set=fresh")
            #expect(after.status == .ok, "\(String(buffer: after.body))")
            #expect(try jsonObject(after)["prompt_set"] as? String == "fresh")
            let listed = try await client.execute(uri: "/v1/prompt-sets?model=tiny", method: .get)
            #expect((try jsonObject(listed)["data"] as? [[String: Any]])?.map { $0["id"] as? String } == ["fresh", "shapes"])
        }
    }

    @Test func zeroShotFeaturesAreComputedOncePerClassList() async throws {
        let cache = ZeroShotFeatureCache(capacity: 2)
        let calls = CallCounter()
        func features(_ key: String) async throws -> [Float] {
            try await cache.features(for: key) { calls.increment(); return [Float(key.count)] }
        }
        _ = try await features("a")
        _ = try await features("a")
        #expect(calls.value == 1)
        _ = try await features("bb")
        _ = try await features("a")      // "a" is now the most recently used
        _ = try await features("ccc")    // evicts "bb"
        #expect(await cache.count == 2)
        _ = try await features("a")
        #expect(calls.value == 3)
        _ = try await features("bb")
        #expect(calls.value == 4, "the least recently used list was evicted")
        // A failed computation is not kept.
        await #expect(throws: CancellationError.self) { try await cache.features(for: "x") { throw CancellationError() } }
        #expect(try await features("x") == [1])
    }

    @Test func overALiveSocket() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png"), jpeg = try TagFixtures.image("jpeg_444.jpg")
        var form = MultipartBody()
        form.addFile(name: "images", filename: "a.png", type: "image/png", data: png)
        form.addFile(name: "images", filename: "b.jpg", type: "image/jpeg", data: jpeg)
        let upload = form.upload
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.live) { client in
            try await client.waitUntilReady()
            let response = try await client.tagMultipart(upload, query: "top_k=3")
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let results = try #require(try jsonObject(response)["results"] as? [[String: Any]])
            #expect(results.count == 2)
            #expect(results.allSatisfy { Self.labels($0).count == 3 })
            let broken = try await client.tagRaw(Array(png.prefix(png.count / 2)))
            #expect(broken.status == .unprocessableContent)
        }
    }
}

/// A thread-safe call counter for closures.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
