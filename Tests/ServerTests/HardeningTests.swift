import CLIP
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import Server

/// Findings of the December 2026 probe that are not about connections or keys: start-up as an
/// unprivileged user, readiness once the default prompt set is gone, what error bodies reveal,
/// and a full disk.
@Suite("Probe findings")
struct HardeningTests {
    /// `--data-dir` alone moves the prompt sets with the rest of the data (a relative
    /// `prompt_sets.dir` is inside `data_dir`); an absolute one stays where it is.
    @Test func promptSetsFolderFollowsTheDataDirectory() throws {
        let shipped = TagFixtures.repository.appendingPathComponent("config/tagtune.yaml").path
        let moved = try ServerConfiguration.load(file: shipped, environment: [:], flags: ["data_dir": "/srv/tagtune"])
        #expect(moved.promptSetsDirectory == "/srv/tagtune/prompt-sets")
        let production = TagFixtures.repository.appendingPathComponent("config/tagtune.production.yaml").path
        let keyed = try ServerConfiguration.load(file: production, environment: ["TAGTUNE_AUTH_API_KEYS": AuthTests.keys[0]],
                                                 flags: ["data_dir": "/srv/tagtune"])
        #expect(keyed.promptSetsDirectory == "/srv/tagtune/prompt-sets")
        let absolute = try ServerConfiguration.load(file: shipped, environment: [:],
                                                    flags: ["data_dir": "/srv/tagtune", "prompt_sets.dir": "/elsewhere/sets"])
        #expect(absolute.promptSetsDirectory == "/elsewhere/sets")
    }

    /// The bundled prompt set is copied by content (no ownership to copy, so a non-root server can
    /// install root-owned files: scripts/probe/run.sh starts one), and no staging folder stays behind.
    @Test func bundledPromptSetIsCopiedAndLeavesNoStagingFolder() async throws {
        let template = try await TagFixtures.promptSetTemplate()
        let folder = TagFixtures.temporaryFolder("bundled")
        defer { try? FileManager.default.removeItem(at: folder) }
        let stale = folder.appendingPathComponent(".shapes.bundled-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        let problems = BundledFolders.install(["shapes=\(template.path)"], into: folder, mode: .copy, logger: TagFixtures.logger)
        #expect(problems.isEmpty)
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(entries == ["shapes"], "\(entries)")
        for name in try FileManager.default.contentsOfDirectory(atPath: template.path) {
            #expect(try Data(contentsOf: folder.appendingPathComponent("shapes/\(name)")) == Data(contentsOf: template.appendingPathComponent(name)))
        }
    }

    /// Deleting the default prompt set's folder under a running server: not ready, and default
    /// tagging is the documented 503 `no_default` (it was a 404 naming a `param` never sent).
    /// Putting it back heals both without a restart.
    @Test func deletedDefaultPromptSetMakesTheServerUnready() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        try await server.withReadyClient { client async throws in
            #expect(try await client.tagRaw(png).status == .ok)
            let folder = server.promptSetsFolder.appendingPathComponent("shapes")
            let aside = server.root.appendingPathComponent("shapes-aside")
            try FileManager.default.moveItem(at: folder, to: aside)

            let readiness = try await client.execute(uri: "/readyz", method: .get)
            #expect(readiness.status == .serviceUnavailable)
            #expect(try TagErrorBody.decode(readiness).message.contains("shapes"))
            let tagged = try await client.tagRaw(png)
            #expect(tagged.status == .serviceUnavailable, "\(String(buffer: tagged.body))")
            let error = try TagErrorBody.decode(tagged)
            #expect(error.code == "no_default")
            #expect(error.param == nil)

            try FileManager.default.moveItem(at: aside, to: folder)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            #expect(try await client.tagRaw(png).status == .ok)
        }
    }

    /// Error bodies name the client's input and the configuration keys, never the server's folders.
    @Test func errorBodiesNameNoServerPath() async throws {
        let test = try TuningTestApp()
        try await test.application().test(.router) { client in
            let (status, body) = try await client.send(.post, "/v1/tuning/jobs", json: ["dataset": "ds-00000000000000000000000x", "model": "nope"])
            #expect(status == .notFound)
            let message = try #require((body["error"] as? [String: Any])?["message"] as? String)
            #expect(!message.contains(test.folder.url.path), "\(message)")
            #expect(message.contains("models.dir"), "\(message)")
        }
        let folder = test.configuration.dataDirectory + "/datasets/.staging-ds-1/images/x"
        let cocoa = #"image 'x' cannot be stored: Error Domain=NSCocoaErrorDomain Code=516 "The file “x” couldn’t be saved because a file with the same name already exists." UserInfo={NSFilePath=\#(folder)}"#
        let cleaned = ServerPathRedaction.clean(cocoa)
        #expect(cleaned == "image 'x' cannot be stored: The file “x” couldn’t be saved because a file with the same name already exists.")
        #expect(ServerPathRedaction.clean("cannot write \(folder)") == "cannot write data_dir/datasets/.staging-ds-1/images/x")
    }

    /// A full disk is the server's state: 507 `insufficient_storage`, whichever layer noticed it.
    @Test func outOfSpaceIs507() async throws {
        let errors: [any Error] = [
            POSIXError(.ENOSPC),
            NSError(domain: NSCocoaErrorDomain, code: CocoaError.fileWriteOutOfSpace.rawValue),
            NSError(domain: NSCocoaErrorDomain, code: 512, userInfo: [NSUnderlyingErrorKey: POSIXError(.ENOSPC)]),
        ]
        for error in errors { #expect(OutOfSpace.matches(error), "\(error)") }
        #expect(!OutOfSpace.matches(POSIXError(.EACCES)))

        let router = Router(context: TagTuneRequestContext.self)
        router.add(middleware: ErrorMiddleware(routes: RouteTable()))
        router.post("/full") { _, _ -> String in throw NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC)) }
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/full", method: .post)
            #expect(response.status.code == 507)
            #expect(try TagErrorBody.decode(response).code == "insufficient_storage")
        }
    }

    /// A server started on a full disk (the database cannot be opened) serves tagging, and its
    /// datasets and tuning routes answer 507 `insufficient_storage` rather than 404 or 500.
    @Test func aServerStartedOnAFullDiskServesTaggingAndAnswers507ForTuning() async throws {
        let test = try TuningTestApp()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = try buildApplication(configuration: test.configuration,
                                   dependencies: AppDependencies(registry: test.registry, tuning: .none(OutOfSpace.apiError)),
                                   logger: logger)
        try await app.test(.router) { client in
            for (method, uri) in [(HTTPRequest.Method.post, "/v1/datasets"), (.get, "/v1/datasets"), (.get, "/v1/tuning/jobs"),
                                  (.post, "/v1/tuning/jobs")] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status.code == 507, "\(method) \(uri): \(response.status)")
                #expect(try TagErrorBody.decode(response).code == "insufficient_storage")
            }
            let models = try await client.execute(uri: "/v1/models", method: .get)
            #expect(models.status == .ok)
            let healthz = try await client.execute(uri: "/healthz", method: .get)
            #expect(healthz.status == .ok)
        }
    }

    /// A prompt set whose tensors change under the running server is read again (the cache key
    /// covers the tensors file, not the manifest alone), and NaN in them is refused at load with
    /// 409 `prompt_set_unusable` instead of a 500 on every tag request.
    @Test func nonFiniteTensorsAreRefusedEvenWhenChangedWhileServed() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        try await server.withReadyClient { client async throws in
            #expect(try await client.tagRaw(png, query: "prompt_set=shapes").status == .ok)

            let tensors = server.promptSetsFolder.appendingPathComponent("shapes/prompts.safetensors")
            var bytes = [UInt8](try Data(contentsOf: tensors))
            let headerLength = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
            let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
            let features = try #require(header["class_features"] as? [String: Any])
            let start = 8 + headerLength + (try #require((features["data_offsets"] as? [Int])?.first))
            bytes.replaceSubrange(start..<(start + 4), with: [0x00, 0x00, 0xC0, 0x7F])   // a quiet NaN, little-endian
            try Data(bytes).write(to: tensors)   // same size: only the file's identity and time change
            // Recorded as written, so the digest holds and finiteness is what refuses (a writer
            // that saved NaN; a garbled file is refused by its digest, PromptSetIntegrityTests).
            let manifestURL = server.promptSetsFolder.appendingPathComponent("shapes/prompt_set.json")
            var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any])
            manifest["files_sha256"] = ["prompts.safetensors": SHA256.hex(bytes)]
            try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)

            let refused = try await client.tagRaw(png, query: "prompt_set=shapes")
            #expect(refused.status == .conflict, "\(String(buffer: refused.body))")
            let error = try TagErrorBody.decode(refused)
            #expect(error.code == "prompt_set_unusable")
            #expect(error.message.contains("not finite"))
        }
    }

    /// 429s are logged at most once a second, each logged line counting those skipped.
    @Test func refusalsAreSampledInTheLog() {
        let sampler = RefusalLogSampler(interval: .seconds(1))
        let start = ContinuousClock.now
        #expect(sampler.admit(now: start) == 0)
        for i in 1...1000 { #expect(sampler.admit(now: start + .milliseconds(i % 999)) == nil) }
        #expect(sampler.admit(now: start + .seconds(1)) == 1000)
        #expect(sampler.admit(now: start + .milliseconds(1500)) == nil)
    }

    /// A multipart dataset upload cut off inside its file part is a 400, not a zip to import.
    @Test func truncatedMultipartUploadIs400() async throws {
        let test = try TuningTestApp()
        let zip = try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 3))
        let body = DatasetFixtures.multipart(zip: zip, fileName: "cut.zip", name: "cut")
        try await test.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/datasets", method: .post,
                headers: [.contentType: "multipart/form-data; boundary=tagtune-boundary-42"], body: ByteBuffer(bytes: body.prefix(body.count - 40)))
            #expect(response.status == .badRequest, "\(String(buffer: response.body))")
            #expect(try DatasetFixtures.error(response.body)["code"] as? String == "malformed_multipart")
            #expect(test.folder.storedDatasets.isEmpty)
        }
    }

    /// Lists carry summaries (their size no longer grows with classes and warnings); the item has
    /// the details; a dataset has at most `DatasetImporter.maximumClasses` classes.
    @Test func datasetListsCarrySummariesAndClassesAreCapped() async throws {
        let test = try TuningTestApp()
        let files = try DatasetFixtures.datasetFiles(count: 6)
        try await test.application().test(.router) { client in
            let (status, created) = try await client.upload(try DatasetFixtures.zip(files), name: "summary")
            #expect(status == .created)
            #expect((created["classes"] as? [Any])?.count == 3)
            let (_, list) = try await client.send(.get, "/v1/datasets")
            let item = try #require((list["data"] as? [[String: Any]])?.first)
            #expect(item["classes"] == nil && item["warnings"] == nil, "\(item)")
            #expect(item["class_count"] as? Int == 3)
            #expect(item["warning_count"] as? Int == 0)
            let (_, full) = try await client.send(.get, "/v1/datasets/\(try #require(item["id"] as? String))")
            #expect((full["classes"] as? [Any])?.count == 3)
            #expect(full["class_count"] as? Int == 3)

            var crowded = files.filter { $0.path != "classes.txt" }
            let names = DatasetFixtures.classes + (0..<(DatasetImporter.maximumClasses - 2)).map { "extra \($0)" }
            crowded.append((path: "classes.txt", bytes: Data(names.joined(separator: "\n").utf8)))
            let (refused, body) = try await client.upload(try DatasetFixtures.zip(crowded), name: "crowded")
            #expect(refused == .unprocessableContent, "\(body)")
            #expect(String(describing: body).contains("\(DatasetImporter.maximumClasses)"))
        }
    }
}
