import CLIP
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
import ZIPFoundation
@testable import Server

/// Builders shared by the dataset, job, store and recovery tests: fixture images, dataset zips,
/// a server configuration over a temporary data folder, and JSON helpers.
enum DatasetFixtures {
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    /// The tiny random-weight CLIP the tests tune on (Hugging Face layout, float32).
    static let tinyModel = fixtures.appendingPathComponent("clip/hf-tiny-f32")
    /// The name the tiny model has in a test's models folder.
    static let modelName = "tiny"

    /// Decodable fixture photos of several formats (all different bytes).
    static let imageNames = [
        "jpeg_422.jpg", "jpeg_444.jpg", "jpeg_baseline_420.jpg", "jpeg_cmyk.jpg", "jpeg_exif3.jpg", "jpeg_exif6.jpg",
        "jpeg_gray.jpg", "jpeg_progressive.jpg", "jpeg_ycck.jpg", "png_rgb.png", "png_gray.png", "png_palette_4bit.png",
        "png_interlaced.png", "png_rgb16.png", "png_gray_alpha.png", "png_palette_trns.png",
    ]
    static let classes = ["cat", "dog", "traffic light"]

    static func image(_ name: String) throws -> Data {
        try Data(contentsOf: fixtures.appendingPathComponent("images/\(name)"))
    }

    /// The files of a valid dataset of `count` images: image i shows class i % 3, and every fourth also "dog".
    static func datasetFiles(count: Int = 12) throws -> [(path: String, bytes: Data)] {
        var files: [(String, Data)] = [("classes.txt", Data(classes.joined(separator: "\n").utf8))]
        var manifest = ""
        for i in 0..<count {
            let name = imageNames[i % imageNames.count]
            let path = "images/\(i)-\(name)"
            var labels = [classes[i % 3]]
            if i % 4 == 0 && i % 3 != 1 { labels.append("dog") }
            let quoted = labels.map { "\"\($0)\"" }.joined(separator: ", ")
            manifest += #"{"image": "\#(path)", "labels": [\#(quoted)]}"# + "\n"
            files.append((path, try image(name)))
        }
        files.insert(("manifest.jsonl", Data(manifest.utf8)), at: 0)
        return files
    }

    /// A zip of `files`, paths exactly as given (even unsafe ones), deflated unless `stored`.
    static func zip(_ files: [(path: String, bytes: Data)], stored: Bool = false) throws -> Data {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-zip-\(UUID().uuidString).zip")
        defer { try? FileManager.default.removeItem(at: url) }
        let archive = try Archive(url: url, accessMode: .create)
        for (path, bytes) in files {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count),
                                 compressionMethod: stored ? .none : .deflate) { position, size in
                bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return try Data(contentsOf: url)
    }

    /// A `multipart/form-data` body with the zip as a file part and optionally a `name` field.
    static func multipart(zip: Data, fileName: String, name: String?, boundary: String = "tagtune-boundary-42") -> Data {
        var body = Data()
        if let name {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\(name)\r\n".utf8)
        }
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\n".utf8)
        body += Data("Content-Type: application/zip\r\n\r\n".utf8)
        body += zip
        body += Data("\r\n--\(boundary)--\r\n".utf8)
        return body
    }

    /// A configuration over `folder`: data, models (with the tiny model as `tiny`) and prompt sets inside it.
    static func configuration(in folder: URL) throws -> ServerConfiguration {
        var configuration = try ServerConfiguration.defaults
        configuration.port = 0
        configuration.publicDirectory = repository.appendingPathComponent("Public").path
        configuration.dataDirectory = folder.appendingPathComponent("data").path
        configuration.modelsDirectory = folder.appendingPathComponent("models").path
        configuration.promptSetsDirectory = folder.appendingPathComponent("prompt-sets").path
        let models = URL(fileURLWithPath: configuration.modelsDirectory)
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let link = models.appendingPathComponent(modelName)
        if !FileManager.default.fileExists(atPath: link.path) {
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: tinyModel)
        }
        return configuration
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(buffer: buffer))
        return try #require(value as? [String: Any], "expected a JSON object, got \(String(buffer: buffer))")
    }

    static func jsonBody(_ object: [String: Any]) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
    }

    /// The `error` object of an error response.
    static func error(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try json(buffer)["error"] as? [String: Any], "expected the error shape, got \(String(buffer: buffer))")
    }
}

/// A temporary folder removed when the value goes away.
final class TemporaryFolder: @unchecked Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Names of the entries of a sub-folder (empty when it does not exist).
    func contents(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.appendingPathComponent(path).path)) ?? []).sorted()
    }

    /// What accepted datasets leave under `data/` (older unpacked folders, blobs, this replica's
    /// unpacked cache), staging folders included: empty when nothing was accepted.
    var storedDatasets: [String] {
        contents("data/datasets").map { "datasets/" + $0 } + contents("data/blobs").map { "blobs/" + $0 }
            + contents("data/cache/datasets").map { "cache/datasets/" + $0 }
    }
}

/// An in-process application with the datasets-and-jobs backend over a temporary folder.
struct TuningTestApp {
    let folder: TemporaryFolder
    let configuration: ServerConfiguration
    let registry: PrometheusCollectorRegistry
    let backend: TuningBackend

    init(folder: TemporaryFolder? = nil, configure: (inout ServerConfiguration) -> Void = { _ in },
         loadEncoder: (@Sendable (String) async throws -> CLIPModel)? = nil, jobFiles: JobWrites = .store) throws {
        let folder = try folder ?? TemporaryFolder()
        var configuration = try DatasetFixtures.configuration(in: folder.url)
        configure(&configuration)
        let registry = PrometheusCollectorRegistry()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        self.folder = folder
        self.configuration = configuration
        self.registry = registry
        backend = try TuningBackend(configuration: configuration, metricsFactory: PrometheusMetricsFactory(registry: registry),
                                    logger: logger, loadEncoder: loadEncoder, jobFiles: jobFiles)
    }

    func application() throws -> some ApplicationProtocol {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try buildApplication(configuration: configuration,
                                dependencies: AppDependencies(registry: registry, tuning: .given(backend)), logger: logger)
    }
}

extension TestClientProtocol {
    /// Uploads a dataset zip; returns the response's status and JSON.
    func upload(_ zip: Data, name: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        let uri = "/v1/datasets" + (name.map { "?name=\($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)" } ?? "")
        let response = try await execute(uri: uri, method: .post, headers: [.contentType: "application/zip"], body: ByteBuffer(bytes: zip))
        return (response.status, try DatasetFixtures.json(response.body))
    }

    /// Sends JSON; returns the status and the body as JSON.
    func send(_ method: HTTPRequest.Method, _ uri: String, json: [String: Any]? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        let response = try await execute(uri: uri, method: method,
                                         headers: json == nil ? [:] : [.contentType: "application/json"],
                                         body: try json.map(DatasetFixtures.jsonBody))
        return (response.status, try DatasetFixtures.json(response.body))
    }

    /// Every event of a job, newest first, following the `after` cursor page by page.
    func allEvents(of id: String) async throws -> [[String: Any]] {
        var events: [[String: Any]] = []
        var after = ""
        while true {
            let (status, page) = try await send(.get, "/v1/tuning/jobs/\(id)/events?limit=100" + (after.isEmpty ? "" : "&after=\(after)"))
            try #require(status == .ok, "\(page)")
            let data = page["data"] as? [[String: Any]] ?? []
            events += data
            guard page["has_more"] as? Bool == true, let last = data.last?["id"] as? String else { return events }
            after = last
        }
    }

    /// Polls a job until it is finished (or the wait is plainly stuck), returning its last state.
    func waitForJob(_ id: String, until done: ([String: Any]) -> Bool = { ["succeeded", "failed", "cancelled"].contains($0["status"] as? String) })
        async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(300)
        while true {
            let (status, job) = try await send(.get, "/v1/tuning/jobs/\(id)")
            try #require(status == .ok)
            if done(job) { return job }
            try #require(ContinuousClock.now < deadline, "job \(id) is stuck: \(job)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
