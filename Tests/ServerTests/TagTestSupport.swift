import CLIP
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Testing
import Tuning
@testable import Server

/// Fixtures for the inference routes: the committed tiny checkpoints and images, and a small
/// prompt set tuned on the tiny Hugging Face checkpoint by the Tuning module itself.
enum TagFixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static let classes = ["cat", "dog", "traffic light"]

    /// Warnings and worse only: request lines of hundreds of test requests drown the test output.
    static let logger: Logger = {
        var logger = Logger(label: "tagtune-test")
        logger.logLevel = .warning
        return logger
    }()

    static func checkpoint(_ name: String) -> URL { fixtures.appendingPathComponent("clip/\(name)") }

    static func image(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("images/\(name)")))
    }

    static func temporaryFolder(_ label: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-\(label)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Tunes a prompt set for one epoch (tiny model, a few fixture photos with made-up labels) and writes it.
    static func tunePromptSet(model: CLIPModel, encoderName: String, id: String, seed: UInt64, into folder: URL) throws {
        let dataset = temporaryFolder("dataset")
        defer { try? FileManager.default.removeItem(at: dataset) }
        let images = try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent("images").path)
            .filter { $0.hasPrefix("jpeg_orientation_") || $0.hasPrefix("png_rgb") || $0 == "jpeg_baseline_420.jpg" }.sorted()
        var manifest = ""
        for (i, name) in images.enumerated() {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent("images/\(name)"), to: dataset.appendingPathComponent(name))
            let labels = [classes[i % 3]] + (i % 4 == 0 ? [classes[(i + 1) % 3]] : [])
            manifest += #"{"image": "\#(name)", "labels": [\#(labels.map { "\"\($0)\"" }.joined(separator: ", "))]}"# + "\n"
        }
        try manifest.write(to: dataset.appendingPathComponent("manifest.jsonl"), atomically: true, encoding: .utf8)
        try classes.joined(separator: "\n").write(to: dataset.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
        var hyperparameters = TuningHyperparameters.defaults(for: .lmpt)
        hyperparameters.epochs = 1
        hyperparameters.batchSize = 8
        hyperparameters.contextLength = 4
        hyperparameters.seed = seed
        let run = TuningRun(model: model, training: try DatasetLoader.load(from: dataset), validation: .heldOut(seed: seed),
                            hyperparameters: hyperparameters, featureCacheRoot: nil, encoderName: encoderName, promptSetID: id)
        let prepared = try run.prepare()
        try run.train(prepared.data).write(to: folder)
    }

    /// The prompt set every test copies ("shapes", encoder "tiny" = hf-tiny-f32), tuned once per test run.
    static func promptSetTemplate() async throws -> URL { try await TemplatePromptSet.shared.folder() }
}

/// Tunes the template prompt set once, off Swift's cooperative pool: tests waiting for it
/// suspend instead of blocking the pool's few threads (which other suites' timing depends on).
actor TemplatePromptSet {
    static let shared = TemplatePromptSet()
    private var tuning: Task<URL, any Error>?

    func folder() async throws -> URL {
        if tuning == nil {
            tuning = Task {
                try await withCheckedThrowingContinuation { continuation in
                    DispatchQueue.global().async {
                        continuation.resume(with: Result {
                            let folder = TagFixtures.temporaryFolder("prompt-set-template").appendingPathComponent("shapes")
                            let model = try CLIPModel(directory: TagFixtures.checkpoint("hf-tiny-f32"))
                            try TagFixtures.tunePromptSet(model: model, encoderName: "tiny", id: "shapes", seed: 1, into: folder)
                            return folder
                        })
                    }
                }
            }
        }
        return try await tuning!.value
    }
}

/// A models folder, a prompt-sets folder and a data folder in a temporary directory, and a
/// configuration that serves them.
struct TagTestServer {
    let root: URL
    var configuration: ServerConfiguration

    var modelsFolder: URL { root.appendingPathComponent("models") }
    var promptSetsFolder: URL { root.appendingPathComponent("prompt-sets") }
    var dataFolder: URL { root.appendingPathComponent("data") }

    /// - Parameters:
    ///   - models: model name → fixture checkpoint folder name.
    ///   - promptSets: ids to copy from the template prompt set (all bound to "tiny").
    init(models: [String: String] = ["tiny": "hf-tiny-f32"], promptSets: [String] = ["shapes"]) async throws {
        root = TagFixtures.temporaryFolder("server")
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("models"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("prompt-sets"), withIntermediateDirectories: true)
        for (name, fixture) in models {
            try fm.copyItem(at: TagFixtures.checkpoint(fixture), to: root.appendingPathComponent("models/\(name)"))
        }
        for id in promptSets {
            try fm.copyItem(at: try await TagFixtures.promptSetTemplate(), to: root.appendingPathComponent("prompt-sets/\(id)"))
        }
        var configuration = try ServerConfiguration.defaults
        configuration.port = 0
        configuration.publicDirectory = OperationsRoutesTests.publicDirectory
        configuration.dataDirectory = root.appendingPathComponent("data").path
        configuration.registry = RegistryConfiguration(
            modelsDirectory: root.appendingPathComponent("models").path, defaultModel: nil,
            promptSetsDirectory: root.appendingPathComponent("prompt-sets").path, defaultPromptSet: nil)
        self.configuration = configuration
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// Runs `body` against this server's application once its default model and prompt set are warm.
    func withReadyClient(dependencies: AppDependencies = AppDependencies(),
                         _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = try buildApplication(configuration: configuration, dependencies: dependencies, logger: TagFixtures.logger)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            try await body(client)
        }
    }

    func manifestData(_ id: String) throws -> Data {
        try Data(contentsOf: promptSetsFolder.appendingPathComponent("\(id)/prompt_set.json"))
    }
}

/// Records what the batcher does, and can hold the next batch on the inference thread until released.
final class RecordingObserver: InferenceObserver, @unchecked Sendable {
    enum Event: Equatable, Sendable {
        case queued(images: Int, depth: Int)
        case willRun(size: Int)
    }

    private let lock = NIOLock()
    private var records: [BatchRecord] = []
    private var holding = false
    private let release = DispatchSemaphore(value: 0)
    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    init() {
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    var batches: [BatchRecord] { lock.withLock { records } }

    /// The next batch blocks in `batchWillRun` until `releaseHeldBatch()`.
    func holdNextBatch() { lock.withLock { holding = true } }
    func releaseHeldBatch() { release.signal() }

    func queued(images: Int, depth: Int) { continuation.yield(.queued(images: images, depth: depth)) }

    func batchWillRun(model: String, size: Int) {
        continuation.yield(.willRun(size: size))
        let hold = lock.withLock { () -> Bool in
            defer { holding = false }
            return holding
        }
        if hold { release.wait() }
    }

    func batchDidRun(_ record: BatchRecord) { lock.withLock { records.append(record) } }
}

/// The error body, decoded.
struct TagErrorBody: Decodable {
    struct Detail: Decodable { let message: String; let type: String; let code: String; let param: String? }
    let error: Detail

    static func decode(_ response: TestResponse) throws -> Detail {
        try JSONDecoder().decode(TagErrorBody.self, from: Data(buffer: response.body)).error
    }
}

extension TestClientProtocol {
    /// Polls `/readyz` until it answers 200 (bounded: fails the test after about 60 s).
    func waitUntilReady() async throws {
        for _ in 0..<1200 {
            let response = try await execute(uri: "/readyz", method: .get)
            if response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let response = try await execute(uri: "/readyz", method: .get)
        Issue.record("never ready: \(String(buffer: response.body))")
        throw CancellationError()
    }

    /// `POST /v1/tag` with a raw image body.
    func tagRaw(_ bytes: [UInt8], type: String = "image/png", query: String = "", headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = type
        return try await execute(uri: "/v1/tag" + (query.isEmpty ? "" : "?" + query), method: .post, headers: fields,
                                 body: ByteBuffer(bytes: bytes))
    }

    /// `POST /v1/tag` with a multipart body.
    func tagMultipart(_ upload: MultipartUpload, query: String = "", headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = upload.contentType
        return try await execute(uri: "/v1/tag" + (query.isEmpty ? "" : "?" + query), method: .post, headers: fields,
                                 body: ByteBuffer(bytes: upload.body))
    }

    /// `POST /v1/tag` with a JSON body.
    func tagJSON(_ object: Any, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await execute(uri: "/v1/tag", method: .post, headers: fields,
                                 body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
    }
}

/// A multipart/form-data body built by hand, as a browser sends it.
struct MultipartBody {
    let boundary = "tagtune-test-\(UUID().uuidString)"
    private(set) var bytes: [UInt8] = []

    mutating func addFile(name: String, filename: String, type: String, data: [UInt8]) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        bytes += data
        bytes += Array("\r\n".utf8)
    }

    mutating func addField(name: String, value: String) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    func finished() -> [UInt8] { bytes + Array("--\(boundary)--\r\n".utf8) }
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }
    /// The finished body and its Content-Type, to send.
    var upload: MultipartUpload { MultipartUpload(contentType: contentType, body: finished()) }
}

struct MultipartUpload: Sendable {
    let contentType: String
    let body: [UInt8]
}

/// The JSON of a response as a dictionary.
func jsonObject(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
}
