import CLIP
import Compute
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
import Tuning
@testable import Server

/// The model registry: readiness follows the defaults, encoders load once, prompt sets are
/// bound to their encoder's weights and refused next to other weights.
@Suite("Model registry")
struct RegistryTests {
    static func registry(_ server: TagTestServer) -> ModelRegistry {
        ModelRegistry(configuration: server.configuration.registry, dataDirectory: server.dataFolder.path,
                      metricsFactory: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()), logger: TagFixtures.logger)
    }

    @Test func readinessWaitsForTheDefaultsAndSaysWhy() async throws {
        var server = try await TagTestServer(models: [:], promptSets: [])
        defer { server.remove() }
        server.configuration.registry.defaultModel = "tiny"
        let models = server.modelsFolder, promptSets = server.promptSetsFolder
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            // Liveness answers while the default model is missing; readiness says what is missing.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            var reason = ""
            for _ in 0..<200 {
                let response = try await client.execute(uri: "/readyz", method: .get)
                #expect(response.status == .serviceUnavailable)
                reason = try TagErrorBody.decode(response).message
                if reason.contains("models.default is 'tiny'") { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(reason.contains("models.default is 'tiny'"), "\(reason)")
            let tag = try await client.tagRaw(try TagFixtures.image("png_rgb.png"))
            #expect(tag.status == .serviceUnavailable)
            #expect(try TagErrorBody.decode(tag).code == "no_default")

            // The model appears: still not ready, now for want of a prompt set.
            try FileManager.default.copyItem(at: TagFixtures.checkpoint("hf-tiny-f32"), to: models.appendingPathComponent("tiny"))
            for _ in 0..<400 {
                reason = try TagErrorBody.decode(try await client.execute(uri: "/readyz", method: .get)).message
                if reason.contains("no prompt set") { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(reason.contains("no prompt set") && reason.contains("'tiny'"), "\(reason)")

            // A prompt set is written (as a finished job does): the server becomes ready without a restart.
            try FileManager.default.copyItem(at: try await TagFixtures.promptSetTemplate(), to: promptSets.appendingPathComponent("shapes"))
            try await client.waitUntilReady()
            #expect(try await client.tagRaw(try TagFixtures.image("png_rgb.png")).status == .ok)
        }
    }

    @Test func modelsAreListedWithTheirPromptSetsAndDigests() async throws {
        let server = try await TagTestServer(models: ["tiny": "hf-tiny-f32", "half": "hf-tiny-f16"], promptSets: ["shapes", "other"])
        defer { server.remove() }
        var configuration = server.configuration
        configuration.registry.defaultModel = "tiny"
        configuration.registry.defaultPromptSet = "shapes"
        // A folder that is not a checkpoint is not listed; a broken checkpoint is listed with its problem.
        try FileManager.default.createDirectory(at: server.modelsFolder.appendingPathComponent("notes"), withIntermediateDirectories: true)
        let broken = server.modelsFolder.appendingPathComponent("broken")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try Data("{".utf8).write(to: broken.appendingPathComponent("config.json"))
        let app = try buildApplication(configuration: configuration, logger: TagFixtures.logger)
        let digest = try SHA256.hex(files: [TagFixtures.checkpoint("hf-tiny-f32/model.safetensors")])
        let halfDigest = try SHA256.hex(files: [TagFixtures.checkpoint("hf-tiny-f16/model.safetensors")])
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let list = try jsonObject(try await client.execute(uri: "/v1/models", method: .get))
            #expect(list["object"] as? String == "list")
            let data = try #require(list["data"] as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == ["broken", "half", "tiny"])
            let tiny = data[2], half = data[1], bad = data[0]
            #expect(tiny["weights_sha256"] as? String == digest)
            #expect(tiny["dtype"] as? String == "F32")
            #expect(tiny["image_size"] as? Int == 32)
            #expect(tiny["projection_dim"] as? Int == 32)
            #expect(tiny["layout"] as? String == "huggingface")
            #expect(tiny["loaded"] as? Bool == true)
            #expect(tiny["default"] as? Bool == true)
            #expect(tiny["prompt_sets"] as? [String] == ["other", "shapes"])
            #expect(tiny["default_prompt_set"] as? String == "shapes")
            #expect(tiny["error"] is NSNull)
            #expect(half["weights_sha256"] as? String == halfDigest)
            #expect(half["dtype"] as? String == "F16")
            #expect(half["loaded"] as? Bool == false, "listing does not load")
            #expect(half["prompt_sets"] as? [String] == [])
            #expect(half["default_prompt_set"] is NSNull)
            #expect((bad["error"] as? String)?.contains("config.json") == true)
            #expect(bad["loaded"] as? Bool == false)

            let one = try await client.execute(uri: "/v1/models/half", method: .get)
            #expect(one.status == .ok)
            #expect(try jsonObject(one)["id"] as? String == "half")
            let missing = try await client.execute(uri: "/v1/models/nope", method: .get)
            #expect(missing.status == .notFound)
            #expect(try TagErrorBody.decode(missing).code == "model_not_found")
            let unusable = try await client.tagRaw(try TagFixtures.image("png_rgb.png"), query: "model=broken&classes=a,b")
            #expect(unusable.status == .serviceUnavailable)
            #expect(try TagErrorBody.decode(unusable).code == "model_unavailable")
        }
    }

    /// `models.precision` and `models.precision_by_model` choose each model's precision; a model
    /// asked for in bf16 serves bf16 only on a CPU with bf16 kernels, and otherwise says why it
    /// serves f32. What runs the products is reported once the model is loaded.
    @Test func eachModelReportsThePrecisionItServesIn() async throws {
        let server = try await TagTestServer(models: ["tiny": "hf-tiny-f32", "other": "hf-tiny-f32"], promptSets: ["shapes"])
        defer { server.remove() }
        var configuration = server.configuration
        configuration.registry.defaultModel = "tiny"
        configuration.registry.precision = "bf16"
        configuration.registry.precisionByModel = ["other=f32"]
        let app = try buildApplication(configuration: configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let tiny = try jsonObject(try await client.execute(uri: "/v1/models/tiny", method: .get))
            let other = try jsonObject(try await client.execute(uri: "/v1/models/other", method: .get))
            #expect(other["loaded"] as? Bool == false)
            #expect(other["precision"] as? String == "f32", "the override, before loading")
            #expect(other["weight_products"] is NSNull)
            let products = tiny["weight_products"] as? String ?? ""
            #expect(products.hasPrefix(PackedWeight.defaultKernel == .panels ? "TagTune avx512_panels" : "oneDNN"), "\(tiny)")
            if OneDNN.hasNativeBF16 {
                #expect(tiny["precision"] as? String == "bf16")
                #expect(tiny["precision_note"] is NSNull)
            } else {
                #expect(tiny["precision"] as? String == "f32")
                let note = try #require(tiny["precision_note"] as? String)
                #expect(note.contains("bf16") && note.contains(OneDNN.isa), "\(note)")
            }
            let info = try jsonObject(try await client.execute(uri: "/info", method: .get))
            let build = try #require(info["build"] as? [String: Any])
            #expect((build["onednn"] as? String)?.contains(OneDNN.isa) == true)
            #expect(build["bf16_kernels"] as? Bool == OneDNN.hasNativeBF16)
            #expect((info["model"] as? [String: Any])?["precision"] as? String == tiny["precision"] as? String)
        }
    }

    @Test func aPromptSetForOtherWeightsIsRefusedNamingBothDigests() async throws {
        // "tiny" here holds other weights than the ones the prompt set was tuned on.
        var server = try await TagTestServer(models: ["tiny": "hf-tiny-f16", "right": "hf-tiny-f32"], promptSets: ["shapes"])
        defer { server.remove() }
        server.configuration.registry.defaultModel = "right"
        let tuned = try SHA256.hex(files: [TagFixtures.checkpoint("hf-tiny-f32/model.safetensors")])
        let other = try SHA256.hex(files: [TagFixtures.checkpoint("hf-tiny-f16/model.safetensors")])
        let png = try TagFixtures.image("png_rgb.png")
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            // The prompt set names "tiny", whose weights differ; it binds to "right", the copy with its weights.
            try await client.waitUntilReady()
            let view = try jsonObject(try await client.execute(uri: "/v1/prompt-sets/shapes", method: .get))
            #expect(view["model"] as? String == "right")

            // Asking for it with the other model is refused, naming both digests.
            let mismatch = try await client.tagRaw(png, query: "prompt_set=shapes&model=tiny")
            #expect(mismatch.status == .unprocessableContent)
            let error = try TagErrorBody.decode(mismatch)
            #expect(error.code == "model_mismatch")
            #expect(error.param == "model")
            #expect(error.message.contains(tuned) && error.message.contains(other), "\(error.message)")
            #expect(try await client.tagRaw(png, query: "prompt_set=shapes&model=right").status == .ok)
        }

        // Without a copy of the right weights, the prompt set cannot be used at all.
        let alone = try await TagTestServer(models: ["tiny": "hf-tiny-f16"], promptSets: ["shapes"])
        defer { alone.remove() }
        let refusingApp = try buildApplication(configuration: alone.configuration, logger: TagFixtures.logger)
        try await refusingApp.test(.router) { client in
            let refused = try await client.tagRaw(png, query: "prompt_set=shapes")
            #expect(refused.status == .conflict, "\(String(buffer: refused.body))")
            let refusal = try TagErrorBody.decode(refused)
            #expect(refusal.code == "encoder_mismatch")
            #expect(refusal.message.contains(tuned) && refusal.message.contains(other), "\(refusal.message)")
            let listed = try jsonObject(try await client.execute(uri: "/v1/prompt-sets/shapes", method: .get))
            #expect(listed["model"] is NSNull)
            #expect((listed["error"] as? String)?.contains(other) == true)
            let readiness = try TagErrorBody.decode(try await client.execute(uri: "/readyz", method: .get))
            #expect(readiness.code == "not_ready")
        }
    }

    @Test func anEncoderIsLoadedOnceForConcurrentRequests() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let registry = Self.registry(server)
        let loaded = try await withThrowingTaskGroup(of: LoadedEncoder.self) { group in
            for _ in 0..<8 { group.addTask { try await registry.encoder(named: "tiny") } }
            return try await group.reduce(into: [LoadedEncoder]()) { $0.append($1) }
        }
        #expect(loaded.count == 8)
        #expect(loaded.allSatisfy { $0.model === loaded[0].model }, "one model in memory, shared")
        let again = try await registry.encoder(named: "tiny")
        #expect(again.model === loaded[0].model)
        await #expect(throws: RegistryError.self) { try await registry.encoder(named: "missing") }
    }

    @Test func theDefaultFollowsTheConfigurationAndTheFolders() async throws {
        var server = try await TagTestServer(models: ["tiny": "hf-tiny-f32", "half": "hf-tiny-f16"], promptSets: ["shapes"])
        defer { server.remove() }
        // Two encoders and no models.default: ambiguous, and the message says how to fix it.
        do {
            _ = try await Self.registry(server).defaultModelName()
            Issue.record("two encoders without models.default must not pick one")
        } catch let error as RegistryError {
            #expect(error.description.contains("set models.default"))
        }
        // prompt_sets.default alone picks its encoder.
        server.configuration.registry.defaultPromptSet = "shapes"
        let registry = Self.registry(server)
        #expect(try await registry.defaultModelName() == "tiny")
        let defaults = try await registry.loadDefaults()
        #expect(defaults.encoder.name == "tiny" && defaults.promptSet.id == "shapes")
        #expect(defaults.promptSet.manifest.classes == TagFixtures.classes)
    }

    @Test func hiddenAndOddFoldersAreIgnored() {
        #expect(ModelRegistry.isValidName("shop-v1.2_final"))
        #expect(!ModelRegistry.isValidName(".shapes.tmp-1234"), "PromptSet.write stages into hidden folders")
        #expect(!ModelRegistry.isValidName(""))
        #expect(!ModelRegistry.isValidName("a b"))
        #expect(!ModelRegistry.isValidName("ü"))
    }
}
