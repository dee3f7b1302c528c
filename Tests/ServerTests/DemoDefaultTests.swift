import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// The embedded default that `make serve` serves: config/tagtune.yaml's bundled demo model and
/// prompt set installed into empty folders, ready, and tagging the shipped examples sensibly.
@Suite("Demo default")
struct DemoDefaultTests {
    static let repository = TagFixtures.repository

    /// config/tagtune.yaml as `make serve` reads it, with its folders moved into a temporary root.
    static func demoConfiguration(root: URL) throws -> ServerConfiguration {
        var configuration = try ServerConfiguration.load(
            file: repository.appendingPathComponent("config/tagtune.yaml").path, environment: [:], flags: [:])
        func inRepository(_ entry: String) -> String {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            return "\(parts[0])=\(repository.appendingPathComponent(parts[1]).path)"
        }
        configuration.port = 0
        configuration.publicDirectory = repository.appendingPathComponent("Public").path
        configuration.dataDirectory = root.appendingPathComponent("data").path
        configuration.registry.modelsDirectory = root.appendingPathComponent("models").path
        configuration.registry.promptSetsDirectory = root.appendingPathComponent("data/prompt-sets").path
        configuration.registry.bundledModels = configuration.registry.bundledModels.map(inRepository)
        configuration.registry.bundledPromptSets = configuration.registry.bundledPromptSets.map(inRepository)
        return configuration
    }

    @Test func bundledFoldersAreLinkedOrCopiedOnceAndNeverReplaceTheUsersOwn() throws {
        let root = TagFixtures.temporaryFolder("bundled")
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("shipped")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data("v1".utf8).write(to: source.appendingPathComponent("file.txt"))
        let models = root.appendingPathComponent("models"), sets = root.appendingPathComponent("sets")

        #expect(try BundledFolders.install("demo=\(source.path)", into: models, mode: .link) != nil)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: models.appendingPathComponent("demo").path) == source.path)
        #expect(try BundledFolders.install("demo=\(source.path)", into: sets, mode: .copy) != nil)
        let copied = sets.appendingPathComponent("demo/file.txt")
        #expect(try String(contentsOf: copied, encoding: .utf8) == "v1")
        // Edited after install (as PATCH does): a second start keeps the edit.
        try Data("edited".utf8).write(to: copied)
        #expect(try BundledFolders.install("demo=\(source.path)", into: sets, mode: .copy) == nil)
        #expect(try String(contentsOf: copied, encoding: .utf8) == "edited")
        #expect(try String(contentsOf: source.appendingPathComponent("file.txt"), encoding: .utf8) == "v1")
        // Nothing staged is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: sets.path) == ["demo"])

        let logger = TagFixtures.logger
        let problems = BundledFolders.install(["no-equals-sign", "../up=\(source.path)", "gone=\(root.path)/missing"],
                                              into: sets, mode: .copy, logger: logger)
        #expect(problems.count == 3)
        #expect(problems[0].contains("name=path"))
        #expect(problems[2].contains("no folder"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sets.path) == ["demo"])
    }

    @Test func makeServeConfigurationServesTheDemoModelAndTagsTheExamples() async throws {
        let root = TagFixtures.temporaryFolder("demo-default")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = try Self.demoConfiguration(root: root)
        let examples = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.repository.appendingPathComponent("demo/examples/examples.json"))) as! [String: Any]
        let entries = (examples["examples"] as! [[String: Any]]).map { ($0["file"] as! String, Set($0["labels"] as! [String])) }

        let app = try buildApplication(configuration: configuration, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let info = try JSONSerialization.jsonObject(with: Data(buffer: try await client.execute(uri: "/info", method: .get).body)) as! [String: Any]
            #expect("\(info)".contains("shapes-clip"))

            var hits = 0
            for (file, labels) in entries {
                let bytes = [UInt8](try Data(contentsOf: Self.repository.appendingPathComponent("demo/examples/\(file)")))
                let response = try await client.tagRaw(bytes, type: file.hasSuffix(".jpg") ? "image/jpeg" : "image/png")
                #expect(response.status == .ok, "\(file): \(String(buffer: response.body))")
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
                #expect("\(body)".contains("shapes-lt-lmpt"))
                let result = (body["results"] as? [[String: Any]])?.first ?? [:]
                let served = (result["labels"] as? [[String: Any]]) ?? []
                #expect(served.count == 20, "\(file): every Shapes-LT class is scored")
                let top3 = served.prefix(3).compactMap { $0["label"] as? String }
                if !labels.isDisjoint(with: top3) { hits += 1 }
            }
            // A weak model (zero-shot test mAP 26): not every image, but far above the ~28% a random
            // ranking would reach, must have one of its objects among its three highest scores.
            #expect(hits >= 5, "a true label in the top 3 for \(hits) of \(entries.count) examples")
        }
        // The bundled folders were installed into the empty folders, the model as a link.
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("data/prompt-sets/shapes-lt-lmpt/prompt_set.json").path))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root.appendingPathComponent("models/shapes-clip").path)) != nil)
    }
}
