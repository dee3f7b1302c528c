import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// `GET /v1/prompt-sets[/{id}]` and `PATCH /v1/prompt-sets/{id}`: thresholds are validated
/// whole and written atomically; the default choice survives a restart; bad input changes nothing.
@Suite("Prompt set routes")
struct PromptSetRoutesTests {
    static func patch(_ client: some TestClientProtocol, _ id: String, _ body: String,
                      type: String = "application/json") async throws -> TestResponse {
        try await client.execute(uri: "/v1/prompt-sets/\(id)", method: .patch, headers: [.contentType: type],
                                 body: ByteBuffer(string: body))
    }

    @Test func listAndDetail() async throws {
        let server = try await TagTestServer(promptSets: ["shapes", "other"])
        defer { server.remove() }
        var configuration = server.configuration
        configuration.registry.defaultPromptSet = "shapes"
        let app = try buildApplication(configuration: configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            let list = try jsonObject(try await client.execute(uri: "/v1/prompt-sets", method: .get))
            let data = try #require(list["data"] as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == ["other", "shapes"])
            #expect(data.map { $0["default"] as? Bool } == [false, true])
            #expect(data.allSatisfy { $0["model"] as? String == "tiny" && $0["object"] as? String == "prompt_set" })

            let detail = try jsonObject(try await client.execute(uri: "/v1/prompt-sets/shapes", method: .get))
            let classes = try #require(detail["classes"] as? [[String: Any]])
            #expect(classes.map { $0["name"] as? String } == TagFixtures.classes)
            #expect(classes.allSatisfy { $0["threshold"] as? Double == 0.5 && $0["training_count"] is Int && $0["group"] is String })
            #expect(detail["method"] as? String == "lmpt")
            #expect(detail["n_ctx"] as? Int == 4)
            #expect((detail["encoder"] as? [String: Any])?["name"] as? String == "tiny")
            #expect(detail["created_at"] is Int)

            let filtered = try await client.execute(uri: "/v1/prompt-sets?model=nope", method: .get)
            #expect(filtered.status == .notFound)
            let unknownQuery = try await client.execute(uri: "/v1/prompt-sets?modle=tiny", method: .get)
            #expect(unknownQuery.status == .unprocessableContent)
            #expect(try TagErrorBody.decode(unknownQuery).code == "unknown_parameter")
            let missing = try await client.execute(uri: "/v1/prompt-sets/nope", method: .get)
            #expect(missing.status == .notFound)
            #expect(try TagErrorBody.decode(missing).code == "prompt_set_not_found")
            let traversal = try await client.execute(uri: "/v1/prompt-sets/..%2Fmodels", method: .get)
            #expect(traversal.status == .notFound)
        }
    }

    @Test func patchingThresholdsPersistsAndChangesTagging() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        let manifestURL = server.promptSetsFolder.appendingPathComponent("shapes/prompt_set.json")
        try await server.withReadyClient { client async throws in
            let response = try await Self.patch(client, "shapes", #"{"thresholds": {"dog": 0.25, "traffic light": 1}}"#)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let classes = (try jsonObject(response)["classes"] as! [[String: Any]])
            #expect(classes.map { $0["threshold"] as? Double } == [0.5, 0.25, 1])

            // On disk, in the manifest the job worker and the CLI read; nothing else in it changed.
            let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as! [String: Any]
            #expect(saved["thresholds"] as? [Double] == [0.5, 0.25, 1])
            #expect(saved["classes"] as? [String] == TagFixtures.classes)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: manifestURL.deletingLastPathComponent().path)
            #expect(Set(leftovers) == ["prompt_set.json", "prompts.safetensors"], "no temporary file is left behind")

            // Tagging uses the new thresholds at once.
            let tagged = try jsonObject(try await client.tagRaw(png))
            let labels = (tagged["results"] as! [[String: Any]])[0]["labels"] as! [[String: Any]]
            let byName = Dictionary(uniqueKeysWithValues: labels.map { ($0["label"] as! String, $0) })
            #expect(byName["dog"]?["threshold"] as? Double == 0.25)
            #expect(byName["traffic light"]?["threshold"] as? Double == 1)
            #expect(byName["traffic light"]?["present"] as? Bool == false || byName["traffic light"]?["score"] as? Double == 1)
        }
        // A new server reads the saved thresholds.
        let restarted = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await restarted.test(.router) { client in
            let detail = try jsonObject(try await client.execute(uri: "/v1/prompt-sets/shapes", method: .get))
            #expect((detail["classes"] as! [[String: Any]]).map { $0["threshold"] as? Double } == [0.5, 0.25, 1])
        }
    }

    @Test func badPatchesChangeNothing() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let before = try server.manifestData("shapes")
        let cases: [(String, String, String, HTTPResponse.Status, String, String?)] = [
            ("out of range", #"{"thresholds": {"cat": 1.5}}"#, "application/json", .unprocessableContent, "invalid_value", "thresholds.cat"),
            ("negative", #"{"thresholds": {"cat": -0.1}}"#, "application/json", .unprocessableContent, "invalid_value", "thresholds.cat"),
            ("one bad among good", #"{"thresholds": {"cat": 0.2, "dog": 2}}"#, "application/json", .unprocessableContent, "invalid_value", "thresholds.dog"),
            ("unknown class", #"{"thresholds": {"horse": 0.5}}"#, "application/json", .unprocessableContent, "invalid_value", "thresholds.horse"),
            ("not a number", #"{"thresholds": {"cat": "high"}}"#, "application/json", .unprocessableContent, "invalid_type", "thresholds.cat"),
            ("list instead of map", #"{"thresholds": [0.5, 0.5, 0.5]}"#, "application/json", .unprocessableContent, "invalid_type", "thresholds"),
            ("empty thresholds", #"{"thresholds": {}}"#, "application/json", .unprocessableContent, "invalid_value", "thresholds"),
            ("nothing to change", #"{}"#, "application/json", .unprocessableContent, "invalid_value", "body"),
            ("default false", #"{"default": false}"#, "application/json", .unprocessableContent, "invalid_value", "default"),
            ("default not a boolean", #"{"default": 1}"#, "application/json", .unprocessableContent, "invalid_type", "default"),
            ("unknown field", #"{"threshold": {"cat": 0.2}}"#, "application/json", .unprocessableContent, "unknown_parameter", "threshold"),
            ("malformed JSON", #"{"thresholds": "#, "application/json", .badRequest, "invalid_json", nil),
            ("form body", "thresholds=0.2", "application/x-www-form-urlencoded", .unsupportedMediaType, "unsupported_media_type", nil),
        ]
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            for (name, body, type, status, code, param) in cases {
                let response = try await Self.patch(client, "shapes", body, type: type)
                #expect(response.status == status, "\(name): \(String(buffer: response.body))")
                let error = try TagErrorBody.decode(response)
                #expect(error.code == code, "\(name): \(error.message)")
                if let param { #expect(error.param == param, "\(name)") }
                #expect(try server.manifestData("shapes") == before, "\(name) changed the manifest")
            }
            let missing = try await Self.patch(client, "nope", #"{"default": true}"#)
            #expect(missing.status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: server.dataFolder.appendingPathComponent(DefaultPromptSetStore.fileName).path))
        }
    }

    @Test func makingAPromptSetTheDefaultSurvivesARestart() async throws {
        var server = try await TagTestServer(promptSets: ["shapes", "other"])
        defer { server.remove() }
        server.configuration.registry.defaultPromptSet = "shapes"
        let png = try TagFixtures.image("png_rgb.png")
        try await server.withReadyClient { client async throws in
            #expect(try jsonObject(try await client.tagRaw(png))["prompt_set"] as? String == "shapes")
            let response = try await Self.patch(client, "other", #"{"default": true}"#)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(try jsonObject(response)["default"] as? Bool == true)
            #expect(try jsonObject(try await client.tagRaw(png))["prompt_set"] as? String == "other")
            let model = try jsonObject(try await client.execute(uri: "/v1/models/tiny", method: .get))
            #expect(model["default_prompt_set"] as? String == "other")
        }
        let saved = try JSONSerialization.jsonObject(
            with: Data(contentsOf: server.dataFolder.appendingPathComponent(DefaultPromptSetStore.fileName))) as! [String: Any]
        #expect(saved["defaults"] as? [String: String] == ["tiny": "other"])
        let restarted = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await restarted.test(.router) { client in
            try await client.waitUntilReady()
            #expect(try jsonObject(try await client.tagRaw(png))["prompt_set"] as? String == "other",
                    "the choice made through the API outlives prompt_sets.default")
        }
    }
}
