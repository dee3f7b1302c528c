import CLIP
import Foundation
import Synchronization
import Testing
@testable import Hub

/// `ModelPull` against the fake hub on loopback: what arrives, what is refused, and how a broken
/// transfer resumes.
@Suite("Pull from a hub")
struct PullTests {
    /// A fresh models folder per test.
    static func modelsFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-pull-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func pull(_ repository: String, models: URL, endpoint: String, token: String? = nil,
                     revision: String = "main", attempts: Int = 4) throws -> ModelPull {
        var pull = ModelPull(repository: try HubRepositoryID(repository), modelsDirectory: models,
                             endpoint: try HubEndpoint(endpoint, token: token))
        pull.revision = revision
        pull.maxAttempts = attempts
        pull.retryDelay = .zero
        return pull
    }

    /// Collects a pull's events.
    final class Events: Sendable {
        private let list = Mutex<[PullEvent]>([])
        var all: [PullEvent] { list.withLock { $0 } }
        func add(_ event: PullEvent) { list.withLock { $0.append(event) } }
    }

    static func contents(_ folder: URL) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
    }

    static func sha256(_ url: URL) throws -> String { try SHA256.hex(files: [url]) }

    static let weightsName = "model.safetensors"

    @Test func fullDownloadGivesAFolderThatLoads() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let events = Events()
        let outcome = try await hub.serve { endpoint in
            try await Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint).run(events: { events.add($0) })
        }
        let folder = models.appendingPathComponent("tiny-org--clip-hf")
        guard case .pulled(let pulled, let record) = outcome else { Issue.record("expected a pull, got \(outcome)"); return }
        #expect(pulled.path == folder.path)

        // Only the CLIP files (and the record), byte for byte the fixture's; no pickles, no other frameworks.
        #expect(try Self.contents(folder) == Set(FakeRepositories.huggingFaceFiles + [PullRecord.fileName]))
        for name in FakeRepositories.huggingFaceFiles {
            #expect(try Self.sha256(folder.appendingPathComponent(name))
                    == Self.sha256(FakeRepositories.fixtures.appendingPathComponent("hf-tiny-f32/\(name)")), "\(name)")
        }
        let model = try CLIPModel(directory: folder)
        #expect(model.configuration.projectionDim == 32)
        #expect(try model.weightsDigest() == Self.sha256(FakeRepositories.fixtures.appendingPathComponent("hf-tiny-f32/model.safetensors")))

        // The record names the commit and every file's digest; nothing is left in the partial folder.
        #expect(record.commit == FakeRepositories.commit("tiny-org/clip-hf"))
        #expect(PullRecord.read(in: folder) == record)
        #expect(Set(record.files.map(\.name)) == Set(FakeRepositories.huggingFaceFiles))
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent(".partial/tiny-org--clip-hf").path))

        // The hub's layout: metadata with blobs, every file at the resolved commit, the weights through the redirect.
        let log = hub.log
        #expect(log.first?.path == "/api/models/tiny-org/clip-hf/revision/main" && log.first?.query == "blobs=true")
        #expect(log.allSatisfy { $0.authorization == nil })
        let resolved = log.filter { $0.path.contains("/resolve/") }
        #expect(resolved.count == FakeRepositories.huggingFaceFiles.count)
        #expect(resolved.allSatisfy { $0.path.hasPrefix("/tiny-org/clip-hf/resolve/\(record.commit)/") })
        #expect(log.contains { $0.path.hasPrefix("/cdn-lfs/") && $0.query == "file=model.safetensors" && $0.status == 200 })
        #expect(events.all.contains { if case .resolved(_, _, _, .huggingFace, _) = $0 { true } else { false } })
    }

    @Test func brokenTransferResumesWithARangeRequestInTheNextRun() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let partial = models.appendingPathComponent(".partial/tiny-org--clip-hf")
        let part = partial.appendingPathComponent("model.safetensors.part")
        let fixture = FakeRepositories.fixtures.appendingPathComponent("hf-tiny-f32/model.safetensors")
        let original = try Data(contentsOf: fixture)
        hub.setFaults(.init(interruptAfter: [Self.weightsName: 300_000]))

        try await hub.serve { endpoint in
            let first = try Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint, attempts: 1)
            let error = await #expect(throws: HubError.self) { try await first.run() }
            guard case .transfer(let file, _) = error else { Issue.record("expected a transfer error, got \(String(describing: error))"); return }
            #expect(file == Self.weightsName)
            #expect(error?.description.contains("run pull again to resume") == true)
        }
        // What arrived is kept as a prefix of the real file; the small files are finished; no final folder.
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("tiny-org--clip-hf").path))
        let kept = try Data(contentsOf: part)
        #expect(kept.count > 0 && kept.count <= 300_000)
        #expect(kept == original.prefix(kept.count))
        #expect(FileManager.default.fileExists(atPath: partial.appendingPathComponent("config.json").path))

        hub.clearLog()
        let outcome = try await hub.serve { endpoint in
            try await Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint).run()
        }
        guard case .pulled(let folder, let record) = outcome else { Issue.record("expected a pull"); return }
        let cdn = hub.log.filter { $0.path.hasPrefix("/cdn-lfs/") }
        #expect(cdn.count == 1)
        #expect(cdn.first?.range == "bytes=\(kept.count)-")
        #expect(cdn.first?.status == 206)
        #expect(try Self.sha256(folder.appendingPathComponent(Self.weightsName)) == Self.sha256(fixture))
        #expect(record.files.first { $0.name == Self.weightsName }?.sha256 == (try Self.sha256(fixture)))
        // Finished files were not fetched again.
        #expect(hub.requests(for: "config.json").isEmpty)
        #expect(try CLIPModel(directory: folder).configuration.text.layers == 2)
    }

    @Test func brokenTransferIsResumedWithinOneRun() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        hub.setFaults(.init(interruptAfter: [Self.weightsName: 200_000]))
        let events = Events()
        let outcome = try await hub.serve { endpoint in
            try await Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint).run(events: { events.add($0) })
        }
        guard case .pulled(let folder, _) = outcome else { Issue.record("expected a pull"); return }
        #expect(events.all.contains { if case .retrying(Self.weightsName, 2, _) = $0 { true } else { false } })
        let cdn = hub.log.filter { $0.path.hasPrefix("/cdn-lfs/") }
        #expect(cdn.count == 2)
        #expect(cdn.last?.range?.hasPrefix("bytes=") == true && cdn.last?.status == 206)
        #expect(try Self.sha256(folder.appendingPathComponent(Self.weightsName))
                == Self.sha256(FakeRepositories.fixtures.appendingPathComponent("hf-tiny-f32/model.safetensors")))
    }

    @Test func serverIgnoringRangeSendsTheWholeFileAgain() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        hub.setFaults(.init(interruptAfter: [Self.weightsName: 250_000]))
        try await hub.serve { endpoint in
            let first = try Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint, attempts: 1)
            await #expect(throws: HubError.self) { try await first.run() }
        }
        hub.setFaults(.init(ignoreRange: true))
        hub.clearLog()
        let events = Events()
        let outcome = try await hub.serve { endpoint in
            try await Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint).run(events: { events.add($0) })
        }
        guard case .pulled(let folder, _) = outcome else { Issue.record("expected a pull"); return }
        #expect(events.all.contains(.rangeIgnored(name: Self.weightsName)))
        let cdn = hub.log.filter { $0.path.hasPrefix("/cdn-lfs/") }
        #expect(cdn.count == 1 && cdn.first?.range != nil && cdn.first?.status == 200)
        #expect(try Self.sha256(folder.appendingPathComponent(Self.weightsName))
                == Self.sha256(FakeRepositories.fixtures.appendingPathComponent("hf-tiny-f32/model.safetensors")))
    }

    @Test func corruptedWeightsFailTheDigestCheckAndLeaveNoFolder() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        hub.setFaults(.init(corrupt: [Self.weightsName]))
        let error = await #expect(throws: HubError.self) {
            try await hub.serve { endpoint in
                try await Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint).run()
            }
        }
        guard case .digestMismatch(let file, let expected, let received) = error else {
            Issue.record("expected a digest mismatch, got \(String(describing: error))"); return
        }
        #expect(file == Self.weightsName)
        #expect(expected == (try Self.sha256(FakeRepositories.fixtures.appendingPathComponent("hf-tiny-f32/model.safetensors"))))
        #expect(received != expected)
        #expect(error?.description.contains("SHA-256") == true)
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("tiny-org--clip-hf").path))
        let partial = models.appendingPathComponent(".partial/tiny-org--clip-hf")
        #expect(!FileManager.default.fileExists(atPath: partial.appendingPathComponent("model.safetensors.part").path))
        #expect(!FileManager.default.fileExists(atPath: partial.appendingPathComponent("model.safetensors").path))
    }

    @Test func pickleOnlyRepositoryIsRefusedBeforeAnyDownload() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let error = await #expect(throws: HubError.self) {
            try await hub.serve { endpoint in
                try await Self.pull("tiny-org/clip-bin-only", models: models, endpoint: endpoint).run()
            }
        }
        #expect(error == .onlyPickleWeights(repository: "tiny-org/clip-bin-only", files: ["pytorch_model.bin"]))
        #expect(error?.description.contains("safetensors") == true)
        #expect(!hub.log.contains { $0.path.contains("/resolve/") })
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("tiny-org--clip-bin-only").path))
    }

    @Test func unknownRepositoryIsAClearError() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let (error, endpoint): (HubError?, String) = try await hub.serve { endpoint in
            let error = await #expect(throws: HubError.self) {
                try await Self.pull("nobody/no-such-model", models: models, endpoint: endpoint).run()
            }
            return (error, endpoint)
        }
        #expect(error == .repositoryNotFound(repository: "nobody/no-such-model", endpoint: endpoint, status: 404))
        #expect(error?.description.contains("repository nobody/no-such-model was not found on \(endpoint)") == true)
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("nobody--no-such-model").path))
    }

    @Test func unreachableHubIsAClearError() async throws {
        let models = try Self.modelsFolder()
        // Port 1 on loopback: nothing listens there, the connection is refused.
        let error = await #expect(throws: HubError.self) {
            var pull = try Self.pull("tiny-org/clip-hf", models: models, endpoint: "http://127.0.0.1:1")
            pull.connectTimeout = .milliseconds(500)
            return try await pull.run()
        }
        guard case .unreachable(let url, _) = error else { Issue.record("expected unreachable, got \(String(describing: error))"); return }
        #expect(url == "http://127.0.0.1:1/api/models/tiny-org/clip-hf/revision/main?blobs=true")
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("tiny-org--clip-hf").path))
    }

    @Test func unknownRevisionIsAClearError() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let error = await #expect(throws: HubError.self) {
            try await hub.serve { endpoint in
                try await Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint, revision: "v9").run()
            }
        }
        #expect(error == .revisionNotFound(repository: "tiny-org/clip-hf", revision: "v9"))
    }

    @Test func presentModelIsNotDownloadedAgain() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let (first, second) = try await hub.serve { endpoint in
            let first = try await Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint).run()
            hub.clearLog()
            let second = try await Self.pull("tiny-org/clip-hf", models: models, endpoint: endpoint).run()
            return (first, second)
        }
        guard case .pulled(let folder, let record) = first else { Issue.record("expected a pull"); return }
        #expect(second == .alreadyPresent(folder: folder, record: record))
        #expect(hub.log.isEmpty)
    }

    @Test func nonCLIPRepositoryIsRefusedBeforeItsWeights() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let error = await #expect(throws: HubError.self) {
            try await hub.serve { endpoint in
                try await Self.pull("tiny-org/bert-tiny", models: models, endpoint: endpoint).run()
            }
        }
        guard case .notACheckpoint(let repository, let reason) = error else {
            Issue.record("expected notACheckpoint, got \(String(describing: error))"); return
        }
        #expect(repository == "tiny-org/bert-tiny")
        #expect(reason.contains("model_type 'bert'"))
        #expect(hub.requests(for: Self.weightsName).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("tiny-org--bert-tiny").path))
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent(".partial/tiny-org--bert-tiny").path))
    }

    @Test func resNetRepositoryIsPulledAndLoads() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        _ = try await hub.serve { endpoint in
            try await Self.pull("tiny-org/clip-rn", models: models, endpoint: endpoint).run()
        }
        let folder = models.appendingPathComponent("tiny-org--clip-rn")
        #expect(try Self.contents(folder) == Set(FakeRepositories.resNetFiles + [PullRecord.fileName]))
        let model = try CLIPModel(directory: folder)
        #expect(model.configuration.resnet?.blocks == [2, 1, 1, 2])
        #expect(model.vision is ResNetTower)
    }

    @Test func timmImageTowerIsRefusedBeforeItsWeights() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let error = await #expect(throws: HubError.self) {
            try await hub.serve { endpoint in
                try await Self.pull("tiny-org/clip-convnext", models: models, endpoint: endpoint).run()
            }
        }
        #expect("\(String(describing: error))".contains("timm_model_name"))
        #expect(hub.requests(for: "open_clip_model.safetensors").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("tiny-org--clip-convnext").path))
    }

    @Test func shardedWeightsArriveWithTheirIndex() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let outcome = try await hub.serve { endpoint in
            try await Self.pull("tiny-org/clip-sharded", models: models, endpoint: endpoint).run()
        }
        guard case .pulled(let folder, _) = outcome else { Issue.record("expected a pull"); return }
        let files = try Self.contents(folder)
        #expect(files.isSuperset(of: ["model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]))
        #expect(!files.contains("pytorch_model.bin"))
        let model = try CLIPModel(directory: folder)
        let reference = try CLIPModel(directory: FakeRepositories.fixtures.appendingPathComponent("hf-tiny-sharded"))
        #expect(try model.weightsDigest() == reference.weightsDigest())
    }

    @Test func openCLIPRepositoryArrivesInItsLayout() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let outcome = try await hub.serve { endpoint in
            try await Self.pull("tiny-org/clip-openclip", models: models, endpoint: endpoint).run()
        }
        guard case .pulled(let folder, let record) = outcome else { Issue.record("expected a pull"); return }
        #expect(record.layout == "open_clip")
        #expect(try Self.contents(folder) == ["open_clip_config.json", "open_clip_model.safetensors", "vocab.json", "merges.txt", PullRecord.fileName])
        #expect(try CLIPModel(directory: folder).configuration.layout == .openCLIP)
    }

    @Test func privateRepositoryNeedsTheToken() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let models = try Self.modelsFolder()
        let (refused, outcome) = try await hub.serve { endpoint in
            let refused = await #expect(throws: HubError.self) {
                try await Self.pull("tiny-org/clip-private", models: models, endpoint: endpoint).run()
            }
            let outcome = try await Self.pull("tiny-org/clip-private", models: models, endpoint: endpoint, token: "hf_secret").run()
            return (refused, outcome)
        }
        #expect(refused?.description.contains("HF_TOKEN") == true)
        guard case .pulled = outcome else { Issue.record("expected a pull with the token"); return }
        // The token goes to the hub, never to the CDN the weights are redirected to (another origin).
        let withToken = hub.log.suffix(from: hub.log.lastIndex { $0.path.hasPrefix("/api/") }!)
        #expect(withToken.filter { !$0.path.hasPrefix("/cdn-lfs/") }.allSatisfy { $0.authorization == "Bearer hf_secret" })
        #expect(withToken.contains { $0.path.hasPrefix("/cdn-lfs/") })
        #expect(withToken.filter { $0.path.hasPrefix("/cdn-lfs/") }.allSatisfy { $0.authorization == nil })
    }
}
