import CLIP
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing
import Tuning
@testable import Server

/// `/v1/tuning/jobs`: a real job on the tiny fixture encoder from upload to prompt set, the job
/// object, events, cancel, failures, and bad requests that change nothing.
@Suite("Tuning job routes")
struct JobRoutesTests {
    /// Uploads the standard small dataset and returns its id.
    static func uploadDataset(_ client: some TestClientProtocol, count: Int = 12) async throws -> String {
        let (status, dataset) = try await client.upload(try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: count)))
        try #require(status == .created)
        return try #require(dataset["id"] as? String)
    }

    static func job(dataset: String, epochs: Int, batch: Int = 4, extra: [String: Any] = [:]) -> [String: Any] {
        var body: [String: Any] = [
            "model": DatasetFixtures.modelName, "dataset": dataset, "seed": 7,
            "hyperparameters": ["epochs": epochs, "batch_size": batch, "n_ctx": 2, "learning_rate": "auto"],
        ]
        for (key, value) in extra { body[key] = value }
        return body
    }

    /// A job that runs until it is stopped: the maximum epochs, one image a step, a preset (no
    /// search) with no early stop. `auto` stops after 10 flat epochs, and on a fast CI machine such a
    /// job had succeeded before the test could cancel it.
    static func longJob(dataset: String) -> [String: Any] {
        var body = job(dataset: dataset, epochs: 1000, batch: 1, extra: ["method": "coop"])
        var hyperparameters = body["hyperparameters"] as? [String: Any] ?? [:]
        hyperparameters["early_stop_patience"] = 0
        body["hyperparameters"] = hyperparameters
        return body
    }

    @Test func jobRunsToSucceededWithProgressEventsAndAPromptSet() async throws {
        let loads = NIOLockedValueBox<[String]>([])
        let test = try TuningTestApp(loadEncoder: { name in
            loads.withLockedValue { $0.append(name) }
            return try CLIPModel(directory: DatasetFixtures.tinyModel)
        })
        try await test.application().test(.router) { client in
            let dataset = try await Self.uploadDataset(client)
            let (status, created) = try await client.send(.post, "/v1/tuning/jobs",
                                                          json: Self.job(dataset: dataset, epochs: 3, extra: ["suffix": "shop", "method": "lmpt"]))
            #expect(status == .created, "\(created)")
            let id = try #require(created["id"] as? String)
            #expect(id.hasPrefix("ftjob-"))
            #expect(created["object"] as? String == "tuning.job")
            #expect(["queued", "validating_files", "running"].contains(created["status"] as? String))
            #expect(created["model"] as? String == "tiny")
            #expect(created["dataset"] as? String == dataset)
            #expect(created["seed"] as? Int == 7)
            #expect(created["finished_at"] is NSNull && created["prompt_set"] is NSNull && created["error"] is NSNull)
            let h = try #require(created["hyperparameters"] as? [String: Any])
            #expect(h["epochs"] as? Int == 3 && h["batch_size"] as? Int == 4 && h["n_ctx"] as? Int == 2)
            #expect(abs((h["learning_rate"] as? Double ?? 0) - 5e-4) < 1e-9, "auto is the LMPT default")

            let done = try await client.waitForJob(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            let progress = try #require(done["progress"] as? [String: Any])
            // The final training runs the epochs the 3-fold selection chose (0 to 3).
            let finalEpochs = try #require(progress["epochs"] as? Int)
            #expect((0...3).contains(finalEpochs) && progress["epoch"] as? Int == finalEpochs)
            let steps = try #require(progress["steps"] as? Int)
            #expect(progress["step"] as? Int == steps && (finalEpochs > 0) == (steps > 0))
            let metrics = try #require(done["metrics"] as? [String: Any])
            let map = try #require(metrics["validation_map"] as? Double)
            #expect(map >= 0 && map <= 100)
            #expect(metrics.keys.contains("validation_tail_map"))
            let startedAt = try #require(done["started_at"] as? Int), finishedAt = try #require(done["finished_at"] as? Int)
            #expect(startedAt >= created["created_at"] as! Int && finishedAt >= startedAt)

            // The prompt set: written atomically under prompt_sets.dir, registered, bound to the encoder's weights.
            let promptSet = try #require(done["prompt_set"] as? String)
            #expect(promptSet == "ps-shop-" + id.dropFirst("ftjob-".count))
            let model = try CLIPModel(directory: DatasetFixtures.tinyModel)
            let loaded = try PromptSet.load(from: test.backend.layout.promptSet(promptSet), for: model)
            #expect(loaded.manifest.classes == DatasetFixtures.classes)
            #expect(loaded.manifest.hyperparameters.epochs == 3 && loaded.manifest.seed == 7)
            #expect(try await test.backend.store.job(id)?.promptSetID == promptSet)
            #expect(test.folder.contents("prompt-sets") == [promptSet], "no staging folder left")
            #expect(try await test.backend.store.checkpoint(jobID: id) == nil, "the checkpoint goes once the job is done")
            #expect(loads.withLockedValue { $0 } == ["tiny"], "the injected encoder loader is used")

            // Events: newest first; metrics rows carry epoch, step, loss and (per epoch) validation mAP.
            let events = try await client.allEvents(of: id)
            #expect((events.first?["message"] as? String)?.hasPrefix("succeeded") == true)
            #expect((events.last?["message"] as? String)?.hasPrefix("created") == true)
            let metricRows = events.filter { $0["type"] as? String == "metrics" }
            #expect(metricRows.count == steps + finalEpochs + 1, "one row for the scored setting, one per step and one per epoch")
            let rows = metricRows.compactMap { $0["data"] as? [String: Any] }
            let candidates = rows.filter { $0["candidate"] != nil }
            #expect(candidates.count == 1 && candidates[0]["selection_score"] is Double && candidates[0]["gradient_ratio"] is Double)
            let training = rows.filter { $0["candidate"] == nil }
            let epochRows = training.filter { $0["validation_map"] is Double }
            #expect(epochRows.compactMap { $0["epoch"] as? Int }.sorted() == Array(0..<finalEpochs).map { $0 + 1 })
            #expect(training.allSatisfy { ($0["loss"] as? Double)?.isFinite == true })
            let (_, firstTwo) = try await client.send(.get, "/v1/tuning/jobs/\(id)/events?limit=2")
            #expect(firstTwo["has_more"] as? Bool == true)
            let lastID = try #require((firstTwo["data"] as? [[String: Any]])?.last?["id"] as? String)
            let (_, next) = try await client.send(.get, "/v1/tuning/jobs/\(id)/events?limit=2&after=\(lastID)")
            #expect((next["data"] as? [[String: Any]])?.first?["id"] as? String == events[2]["id"] as? String)

            // Finished: cancel is a conflict; the job is listed; metrics count it.
            let (conflict, body) = try await client.send(.post, "/v1/tuning/jobs/\(id)/cancel")
            #expect(conflict == .conflict)
            #expect((body["error"] as? [String: Any])?["code"] as? String == "job_finished")
            let (_, list) = try await client.send(.get, "/v1/tuning/jobs")
            #expect((list["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains(#"tagtune_tuning_jobs{status="succeeded"} 1"#))
            #expect(text.contains(#"tagtune_tuning_jobs{status="running"} 0"#))
            #expect(text.contains("tagtune_tuning_job_step_duration_seconds_count \(steps)"))
        }
    }

    @Test func cancelStopsQueuedAndRunningJobsAndFreesTheDataset() async throws {
        let test = try TuningTestApp()
        try await test.application().test(.router) { client in
            let dataset = try await Self.uploadDataset(client)
            // A long job and one queued behind it.
            let (_, long) = try await client.send(.post, "/v1/tuning/jobs", json: Self.longJob(dataset: dataset))
            let (_, queued) = try await client.send(.post, "/v1/tuning/jobs", json: Self.job(dataset: dataset, epochs: 2))
            let longID = try #require(long["id"] as? String), queuedID = try #require(queued["id"] as? String)

            let (cancelStatus, cancelled) = try await client.send(.post, "/v1/tuning/jobs/\(queuedID)/cancel")
            #expect(cancelStatus == .ok)
            #expect(cancelled["status"] as? String == "cancelled", "a queued job is cancelled at once")

            let running = try await client.waitForJob(longID) { ($0["progress"] as? [String: Any])?["step"] as? Int ?? 0 > 0 }
            #expect(running["status"] as? String == "running")
            let (inUse, inUseBody) = try await client.send(.delete, "/v1/datasets/\(dataset)")
            #expect(inUse == .conflict)
            #expect((inUseBody["error"] as? [String: Any])?["code"] as? String == "dataset_in_use")

            let (requested, requestedBody) = try await client.send(.post, "/v1/tuning/jobs/\(longID)/cancel")
            #expect(requested == .ok)
            #expect(requestedBody["cancel_requested"] as? Bool == true)
            let stopped = try await client.waitForJob(longID)
            #expect(stopped["status"] as? String == "cancelled")
            #expect(stopped["prompt_set"] is NSNull)
            #expect(((stopped["progress"] as? [String: Any])?["epoch"] as? Int ?? 1000) < 1000)
            let (_, events) = try await client.send(.get, "/v1/tuning/jobs/\(longID)/events?limit=3")
            #expect((events["data"] as? [[String: Any]])?.first?["message"] as? String == "cancelled")
            let (again, _) = try await client.send(.post, "/v1/tuning/jobs/\(longID)/cancel")
            #expect(again == .conflict)
            #expect(test.folder.contents("data/jobs").isEmpty, "a cancelled job's checkpoint is removed")
            #expect(test.folder.contents("prompt-sets").isEmpty)

            let (deleted, _) = try await client.send(.delete, "/v1/datasets/\(dataset)")
            #expect(deleted == .ok, "no unfinished job uses it any more")
            let (jobStill, job) = try await client.send(.get, "/v1/tuning/jobs/\(longID)")
            #expect(jobStill == .ok && job["dataset"] as? String == dataset, "finished jobs keep naming their dataset")
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains(#"tagtune_tuning_jobs{status="cancelled"} 2"#))
        }
    }

    @Test func aJobThatCannotRunFailsWithAnError() async throws {
        let test = try TuningTestApp()
        // A folder that looks like a checkpoint but is not one.
        let broken = test.backend.layout.model("broken")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: broken.appendingPathComponent("config.json"))
        try await test.application().test(.router) { client in
            let dataset = try await Self.uploadDataset(client, count: 6)
            let (status, created) = try await client.send(.post, "/v1/tuning/jobs",
                                                          json: Self.job(dataset: dataset, epochs: 2, extra: ["model": "broken"]))
            #expect(status == .created)
            let done = try await client.waitForJob(try #require(created["id"] as? String))
            #expect(done["status"] as? String == "failed")
            let error = try #require(done["error"] as? [String: Any])
            #expect(error["code"] as? String == "model_load_failed")
            #expect(error["param"] as? String == "model")
            #expect((error["message"] as? String)?.contains("broken") == true)
            #expect(done["finished_at"] is Int)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains(#"tagtune_tuning_jobs{status="failed"} 1"#))
        }
    }

    /// Each bad request gets its status, code and param, and no job is created.
    @Test func badRequestsAreRefusedAndCreateNothing() async throws {
        let test = try TuningTestApp()
        try await test.application().test(.router) { client in
            let dataset = try await Self.uploadDataset(client, count: 4)
            let good = Self.job(dataset: dataset, epochs: 2)
            func with(_ key: String, _ value: Any) -> [String: Any] { var body = good; body[key] = value; return body }
            func hyper(_ key: String, _ value: Any) -> [String: Any] {
                var h = good["hyperparameters"] as! [String: Any]; h[key] = value; return with("hyperparameters", h)
            }
            let cases: [(body: [String: Any], status: HTTPResponse.Status, code: String, param: String?)] = [
                (with("modle", "tiny"), .unprocessableContent, "unknown_parameter", "modle"),
                (good.filter { $0.key != "model" }, .unprocessableContent, "missing_parameter", "model"),
                (with("model", "no-such-encoder"), .notFound, "model_not_found", "model"),
                (with("model", "../models/tiny"), .unprocessableContent, "invalid_value", "model"),
                (with("model", 3), .unprocessableContent, "invalid_type", "model"),
                (with("dataset", "ds-missing"), .notFound, "dataset_not_found", "dataset"),
                (with("validation_dataset", "ds-missing"), .notFound, "dataset_not_found", "validation_dataset"),
                (with("method", "sgd"), .unprocessableContent, "invalid_value", "method"),
                (with("seed", -1), .unprocessableContent, "invalid_value", "seed"),
                (with("suffix", "a/b"), .unprocessableContent, "invalid_value", "suffix"),
                (with("hyperparameters", [1, 2]), .unprocessableContent, "invalid_type", "hyperparameters"),
                (hyper("epochs", 0), .unprocessableContent, "invalid_value", "hyperparameters.epochs"),
                (hyper("epochs", 2.5), .unprocessableContent, "invalid_type", "hyperparameters.epochs"),
                (hyper("epochs", "many"), .unprocessableContent, "invalid_type", "hyperparameters.epochs"),
                (hyper("batch_size", 5000), .unprocessableContent, "invalid_value", "hyperparameters.batch_size"),
                (hyper("learning_rate", -1), .unprocessableContent, "invalid_value", "hyperparameters.learning_rate"),
                (hyper("n_ctx", 65), .unprocessableContent, "invalid_value", "hyperparameters.n_ctx"),
                (hyper("lambda", 1.5), .unprocessableContent, "invalid_value", "hyperparameters.lambda"),
                (hyper("optimizer", "lion"), .unprocessableContent, "invalid_value", "hyperparameters.optimizer"),
                (hyper("class_specific", 1), .unprocessableContent, "invalid_type", "hyperparameters.class_specific"),
                (hyper("warmup_steps", 3), .unprocessableContent, "unknown_parameter", "hyperparameters.warmup_steps"),
                (hyper("seed", 3), .unprocessableContent, "unknown_parameter", "hyperparameters.seed"),
            ]
            for (body, status, code, param) in cases {
                let (got, answer) = try await client.send(.post, "/v1/tuning/jobs", json: body)
                let error = answer["error"] as? [String: Any]
                #expect(got == status, "\(body): \(answer)")
                #expect(error?["code"] as? String == code, "\(body): \(answer)")
                #expect(error?["param"] as? String == param, "\(body): \(answer)")
            }
            for (raw, type) in [("{", "application/json"), ("[1]", "application/json"), ("{}", "text/plain")] {
                let response = try await client.execute(uri: "/v1/tuning/jobs", method: .post, headers: [.contentType: type],
                                                        body: ByteBuffer(string: raw))
                #expect(response.status == (type == "text/plain" ? .unsupportedMediaType : .badRequest), "\(raw)")
            }
            for uri in ["/v1/tuning/jobs/ftjob-none", "/v1/tuning/jobs/ftjob-none/events", "/v1/tuning/jobs/nonsense"] {
                let (status, _) = try await client.send(.get, uri)
                #expect(status == .notFound, "\(uri)")
            }
            let (cancelUnknown, _) = try await client.send(.post, "/v1/tuning/jobs/ftjob-none/cancel")
            #expect(cancelUnknown == .notFound)
            let (_, list) = try await client.send(.get, "/v1/tuning/jobs")
            #expect((list["data"] as? [Any])?.isEmpty == true, "no refused request created a job")
        }
    }

    /// SIGTERM-style shutdown stops a running job at its next step and queues it again; the next
    /// start resumes it from its last epoch checkpoint.
    @Test func gracefulShutdownRequeuesAndTheNextStartResumes() async throws {
        let folder = try TemporaryFolder()
        let first = try TuningTestApp(folder: folder)
        let (jobID, dataset): (String, String) = try await first.application().test(.router) { client in
            let dataset = try await Self.uploadDataset(client)
            let (_, created) = try await client.send(.post, "/v1/tuning/jobs", json: Self.longJob(dataset: dataset))
            let id = try #require(created["id"] as? String)
            while try await first.backend.store.checkpoint(jobID: id) == nil {
                let job = try await client.waitForJob(id) { $0["status"] as? String != "queued" }
                // A job that ended has no checkpoint any more: fail rather than wait for one forever.
                try #require(!["succeeded", "failed", "cancelled"].contains(job["status"] as? String), "\(job)")
                try await Task.sleep(for: .milliseconds(10))
            }
            return (id, dataset)
        }
        let stopped = try #require(try await first.backend.store.job(jobID))
        #expect(stopped.status == .queued)
        #expect(stopped.epoch >= 1)

        let second = try TuningTestApp(folder: folder)
        try await second.application().test(.router) { client in
            let resumed = try await client.waitForJob(jobID) { ($0["progress"] as? [String: Any])?["step"] as? Int ?? 0 > stopped.step }
            #expect(resumed["status"] as? String == "running")
            let messages = try await client.allEvents(of: jobID).compactMap { $0["message"] as? String }
            #expect(messages.contains { $0.hasPrefix("handed back at a server shutdown") }, "\(messages)")
            #expect(messages.contains { $0.hasPrefix("resumed from the checkpoint of epoch") }, "\(messages)")
            _ = try await client.send(.post, "/v1/tuning/jobs/\(jobID)/cancel")
            #expect(try await client.waitForJob(jobID)["status"] as? String == "cancelled")
            #expect(try await client.send(.get, "/v1/datasets/\(dataset)").0 == .ok)
        }
    }
}
