import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// Batch tagging jobs over HTTP: a zip of images or a dataset, tagged on the job machinery through
/// the shared batcher, results as JSON Lines and CSV equal to what `/v1/tag` answers per image.
@Suite("Batch routes")
struct BatchRoutesTests {
    /// An application with the tuning backend, the tiny model as `tiny` and the template prompt set as `shapes`.
    static func app(observer: RecordingObserver? = nil, maxBatchSize: Int = 16) async throws -> (TuningTestApp, some ApplicationProtocol) {
        let test = try TuningTestApp(configure: { $0.batching.maxBatchSize = maxBatchSize })
        try FileManager.default.copyItem(at: try await TagFixtures.promptSetTemplate(),
                                         to: URL(fileURLWithPath: test.configuration.promptSetsDirectory).appendingPathComponent("shapes"))
        var logger = TagFixtures.logger
        logger.logLevel = .warning
        let app = try buildApplication(configuration: test.configuration,
                                       dependencies: AppDependencies(registry: test.registry, inferenceObserver: observer,
                                                                     tuning: .given(test.backend)),
                                       logger: logger)
        return (test, app)
    }

    /// Five photos in a folder, a truncated PNG, and files that are not images.
    static func archive() throws -> (zip: Data, images: [String: Data]) {
        var images: [String: Data] = [:]
        for name in ["png_rgb.png", "jpeg_444.jpg", "jpeg_exif6.jpg", "png_gray.png", "jpeg_progressive.jpg"] {
            images["shelf/\(name)"] = try DatasetFixtures.image(name)
        }
        images["shelf/broken.png"] = try DatasetFixtures.image("png_rgb.png").prefix(100)
        var files = images.map { (path: $0.key, bytes: $0.value) }
        files += [("README.txt", Data("not an image".utf8)), ("__MACOSX/shelf/._png_rgb.png", Data([0, 1, 2])), ("shelf/.hidden.jpg", Data([1]))]
        return (try DatasetFixtures.zip(files), images)
    }

    static func lines(_ response: TestResponse) throws -> [[String: Any]] {
        try String(buffer: response.body).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func aZipOfImagesIsTaggedInPathOrderLikeTagRequests() async throws {
        let (test, app) = try await Self.app()
        let (archive, images) = try Self.archive()
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let created = try await client.execute(uri: "/v1/batches?prompt_set=shapes&threshold=0.3", method: .post,
                                                   headers: [.contentType: "application/zip"], body: ByteBuffer(data: archive))
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let batch = try DatasetFixtures.json(created.body)
            #expect(batch["object"] as? String == "batch")
            #expect(batch["mode"] as? String == "prompt_set" && batch["prompt_set"] as? String == "shapes" && batch["model"] as? String == "tiny")
            #expect((batch["progress"] as? [String: Any])?["images"] as? Int == 6, "the six .png/.jpg files; README, resource forks, hidden files skipped")
            #expect(batch["results"] is NSNull)
            let id = try #require(batch["id"] as? String)

            let done = try await client.waitForBatch(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            #expect(done["image_counts"] as? [String: Int] == ["total": 6, "completed": 5, "failed": 1])
            #expect((done["progress"] as? [String: Any])?["done"] as? Int == 6)
            #expect((done["images_per_second"] as? Double ?? 0) > 0)

            let jsonl = try await client.execute(uri: "/v1/batches/\(id)/results", method: .get)
            #expect(jsonl.status == .ok)
            #expect(jsonl.headers[.contentType]?.hasPrefix("application/jsonl") == true)
            let rows = try Self.lines(jsonl)
            #expect(rows.map { $0["index"] as? Int } == Array(0..<6))
            #expect(rows.map { $0["image"] as? String } == images.keys.sorted())
            for row in rows {
                let name = row["image"] as! String
                if name == "shelf/broken.png" {
                    #expect((row["error"] as? [String: Any])?["code"] as? String == "invalid_image", "\(row)")
                    #expect(row["labels"] == nil)
                    continue
                }
                // The same labels and scores as /v1/tag gives that image alone.
                let single = try await client.tagRaw([UInt8](images[name]!), type: name.hasSuffix(".png") ? "image/png" : "image/jpeg",
                                                     query: "prompt_set=shapes&threshold=0.3")
                let expected = ((try jsonObject(single)["results"] as! [[String: Any]])[0]["labels"] as! [[String: Any]])
                let labels = try #require(row["labels"] as? [[String: Any]])
                #expect(labels.map { $0["label"] as! String } == expected.map { $0["label"] as! String }, "\(name)")
                for (a, b) in zip(labels, expected) {
                    #expect(abs((a["score"] as! Double) - (b["score"] as! Double)) < 1e-4, "\(name)")
                    #expect(a["present"] as? Bool == b["present"] as? Bool && a["threshold"] as? Double == 0.3 as Double?)
                }
            }

            let csv = try await client.execute(uri: "/v1/batches/\(id)/results?format=csv", method: .get)
            #expect(csv.status == .ok && csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let table = String(buffer: csv.body).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(table.first == "index,image,width,height,labels,error,cat,dog,traffic light")
            #expect(table.count == 7)
            #expect(table.contains { $0.hasPrefix("5,shelf/png_rgb.png,") || $0.contains(",shelf/png_rgb.png,") })
            #expect(table.contains { $0.contains("shelf/broken.png") && $0.contains("invalid_image") })

            let messages = try await client.allBatchEvents(of: id).compactMap { $0["message"] as? String }
            #expect(messages.first == "succeeded: 6 images tagged, 1 could not be read", "\(messages)")
            #expect(messages.contains { $0.hasPrefix("tagged 6/6 images") })
            #expect(test.folder.contents("data/batches/\(id)") == ["results.csv", "results.jsonl"], "the uploaded zip is gone, the results stay")
        }
    }

    @Test func aDatasetIsTaggedZeroShotAndBatchesStayOutOfTuningJobs() async throws {
        let (test, app) = try await Self.app()
        defer { withExtendedLifetime(test) {} }   // its temporary folder holds the models
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let dataset = try await JobRoutesTests.uploadDataset(client, count: 12)
            let (status, batch) = try await client.send(.post, "/v1/batches", json: [
                "dataset": dataset, "classes": ["cat", "dog"], "model": "tiny", "top_k": 1,
            ])
            #expect(status == .created, "\(batch)")
            #expect(batch["mode"] as? String == "zero_shot" && batch["prompt_set"] is NSNull)
            #expect((batch["input"] as? [String: Any])?["dataset"] as? String == dataset)
            let id = try #require(batch["id"] as? String)
            let done = try await client.waitForBatch(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            let rows = try Self.lines(try await client.execute(uri: "/v1/batches/\(id)/results?format=jsonl", method: .get))
            #expect(rows.count == 12)
            #expect(rows.allSatisfy { ($0["labels"] as? [[String: Any]])?.count == 1 }, "top_k 1")
            let csv = String(buffer: try await client.execute(uri: "/v1/batches/\(id)/results?format=csv", method: .get).body)
            #expect(csv.hasPrefix("index,image,width,height,labels,error,cat,dog\r\n"))

            let (_, batches) = try await client.send(.get, "/v1/batches")
            #expect((batches["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            let (_, jobs) = try await client.send(.get, "/v1/tuning/jobs")
            #expect((jobs["data"] as? [[String: Any]])?.isEmpty == true, "a batch is not a tuning job")
            #expect(try await client.send(.get, "/v1/tuning/jobs/\(id)").0 == .notFound)
            let (again, error) = try await client.send(.post, "/v1/batches/\(id)/cancel")
            #expect(again == .conflict && (error["error"] as? [String: Any])?["code"] as? String == "batch_finished")
        }
    }

    @Test func cancellingARunningBatchKeepsTheRowsWritten() async throws {
        let observer = RecordingObserver()
        let (test, app) = try await Self.app(observer: observer, maxBatchSize: 2)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let dataset = try await JobRoutesTests.uploadDataset(client, count: 12)
            observer.holdNextBatch()
            let (_, batch) = try await client.send(.post, "/v1/batches", json: ["dataset": dataset, "prompt_set": "shapes"])
            let id = try #require(batch["id"] as? String)
            // The first encoder call is held: the batch is running, with no row written.
            var events = observer.events.makeAsyncIterator()
            while let event = await events.next(), event != .willRun(size: 2) {}
            let (early, refused) = try await client.send(.get, "/v1/batches/\(id)/results")
            #expect(early == .conflict && (refused["error"] as? [String: Any])?["code"] as? String == "results_not_ready")
            let (cancelStatus, cancelling) = try await client.send(.post, "/v1/batches/\(id)/cancel")
            #expect(cancelStatus == .ok && cancelling["cancel_requested"] as? Bool == true)
            observer.releaseHeldBatch()
            let done = try await client.waitForBatch(id)
            #expect(done["status"] as? String == "cancelled", "\(done)")
            // The group in flight (4 chunks of 2 images) finishes and is written; nothing after it runs.
            #expect(done["image_counts"] as? [String: Int] == ["total": 8, "completed": 8, "failed": 0])
            let rows = try Self.lines(try await client.execute(uri: "/v1/batches/\(id)/results", method: .get))
            #expect(rows.map { $0["index"] as? Int } == Array(0..<8))
            // The class columns are the prompt set's, in its order, as for a batch that succeeds.
            let csv = String(buffer: try await client.execute(uri: "/v1/batches/\(id)/results?format=csv", method: .get).body)
            #expect(csv.hasPrefix("index,image,width,height,labels,error,cat,dog,traffic light\r\n"), "\(csv.prefix(80))")
            #expect(test.folder.contents("data/batches/\(id)") == ["results.csv", "results.jsonl"])
        }
    }

    @Test func badRequestsAreRefusedAndLeaveNothing() async throws {
        let (test, app) = try await Self.app()
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let dataset = try await JobRoutesTests.uploadDataset(client, count: 4)
            let json: [(String, [String: Any], HTTPResponse.Status, String, String?)] = [
                ("unknown dataset", ["dataset": "ds-nope"], .notFound, "dataset_not_found", "dataset"),
                ("no dataset", ["prompt_set": "shapes"], .unprocessableContent, "missing_parameter", "dataset"),
                ("unknown prompt set", ["dataset": dataset, "prompt_set": "nope"], .notFound, "prompt_set_not_found", "prompt_set"),
                ("unknown model", ["dataset": dataset, "classes": ["cat"], "model": "nope"], .notFound, "model_not_found", "model"),
                ("both", ["dataset": dataset, "prompt_set": "shapes", "classes": ["cat"]], .unprocessableContent, "invalid_value", "classes"),
                ("unknown field", ["dataset": dataset, "colour": "red"], .unprocessableContent, "unknown_parameter", "colour"),
                ("bad threshold", ["dataset": dataset, "threshold": 2], .unprocessableContent, "invalid_value", "threshold"),
                ("fractional top_k", ["dataset": dataset, "classes": ["cat"], "top_k": 1.5], .unprocessableContent, "invalid_value", "top_k"),
            ]
            for (name, body, status, code, param) in json {
                let (got, answer) = try await client.send(.post, "/v1/batches", json: body)
                let error = answer["error"] as? [String: Any]
                #expect(got == status && error?["code"] as? String == code && error?["param"] as? String == param, "\(name): \(answer)")
            }
            let noImages = try DatasetFixtures.zip([("README.txt", Data("hello".utf8))])
            let uploads: [(String, String, Data, HTTPResponse.Status, String)] = [
                ("zip without images", "", noImages, .unprocessableContent, "invalid_archive"),
                ("not a zip", "", Data("plain text".utf8), .unprocessableContent, "invalid_archive"),
                ("unknown query parameter", "?colour=red", try Self.archive().zip, .unprocessableContent, "unknown_parameter"),
                ("unknown prompt set", "?prompt_set=nope", try Self.archive().zip, .notFound, "prompt_set_not_found"),
            ]
            for (name, query, body, status, code) in uploads {
                let response = try await client.execute(uri: "/v1/batches" + query, method: .post, headers: [.contentType: "application/zip"],
                                                        body: ByteBuffer(data: body))
                let error = try DatasetFixtures.error(response.body)
                #expect(response.status == status && error["code"] as? String == code, "\(name): \(String(buffer: response.body))")
            }
            #expect(try await client.send(.get, "/v1/batches/batch-nope").0 == .notFound)
            #expect(try await client.send(.get, "/v1/batches/batch-nope/results").0 == .notFound)
            let (_, listed) = try await client.send(.get, "/v1/batches")
            #expect((listed["data"] as? [Any])?.isEmpty == true)
            #expect(test.folder.contents("data/batches").isEmpty)
            #expect(test.folder.contents("data/uploads").isEmpty)
        }
    }
}

/// The results file on its own: a torn last line is cut at resume, and rows spanning more than one
/// read chunk come back whole, in order, in both formats.
@Suite("Batch results file")
struct BatchResultsFileTests {
    @Test func aTornLineIsCutAndLongFilesStreamWhole() throws {
        let folder = try TemporaryFolder()
        let results = BatchResultsFile(folder: folder.url.appendingPathComponent("batch"))
        #expect(try results.resume() == 0)
        let name = String(repeating: "shelf/", count: 80)   // ~500-byte rows: 3000 of them span two chunks
        let rows = (0..<3000).map { i in
            BatchResultRow(index: i, image: "\(name)\(i).png", width: 8, height: 6,
                           labels: [.init(label: "cat", score: Float(i % 10) / 10, threshold: 0.5, present: i % 10 >= 5)])
        }
        try results.append(Array(rows[..<2000]))
        let handle = try FileHandle(forWritingTo: results.partial)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"index": 2000, "ima"#.utf8))   // a crash in the middle of a write
        try handle.close()
        #expect(try results.resume() == 2000)
        try results.append(Array(rows[2000...]))
        let counts = try results.finish(classNames: ["cat", "dog"])
        #expect(counts.rows == 3000 && counts.failed == 0)
        let jsonl = try String(contentsOf: BatchResultsFile.jsonl(in: results.folder), encoding: .utf8).split(separator: "\n")
        #expect(try jsonl.map { try JSONDecoder().decode(BatchResultRow.self, from: Data($0.utf8)) } == rows)
        let csv = try String(contentsOf: BatchResultsFile.csv(in: results.folder), encoding: .utf8).components(separatedBy: "\r\n")
        #expect(csv.first == "index,image,width,height,labels,error,cat,dog")
        #expect(csv.count == 3002 && csv.last == "")
        #expect(csv[2998] == "2997,\(name)2997.png,8,6,cat,,0.700000,")
    }
}

extension TestClientProtocol {
    /// Polls a batch until it is finished (or plainly stuck).
    func waitForBatch(_ id: String) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(300)
        while true {
            let (status, batch) = try await send(.get, "/v1/batches/\(id)")
            try #require(status == .ok, "\(batch)")
            if ["succeeded", "failed", "cancelled"].contains(batch["status"] as? String) { return batch }
            try #require(ContinuousClock.now < deadline, "batch \(id) is stuck: \(batch)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func allBatchEvents(of id: String) async throws -> [[String: Any]] {
        let (status, page) = try await send(.get, "/v1/batches/\(id)/events?limit=100")
        try #require(status == .ok, "\(page)")
        return page["data"] as? [[String: Any]] ?? []
    }
}
