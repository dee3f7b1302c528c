import Foundation
import GRDB
import Testing
import Tuning
@testable import Server

/// Crash recovery with the real binary: SIGKILL in the middle of a job, start again, and the job
/// resumes from its last epoch checkpoint and succeeds; what had finished is untouched.
@Suite("Recovery", .serialized)
struct RecoveryTests {
    @Test func killedServerResumesTheRunningJobAndKeepsFinishedWork() async throws {
        let folder = try TemporaryFolder()
        _ = try DatasetFixtures.configuration(in: folder.url)   // models/tiny → the fixture encoder
        var server: RecoveryServerProcess? = try await RecoveryServerProcess(folder: folder.url)

        let zip = try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 12))
        let (uploaded, dataset) = try await server!.request("POST", "/v1/datasets?name=floor", body: zip, contentType: "application/zip")
        #expect(uploaded == 201, "\(dataset)")
        let datasetID = try #require(dataset["id"] as? String)
        func job(epochs: Int) -> [String: Any] {
            ["model": "tiny", "dataset": datasetID, "seed": 3, "hyperparameters": ["epochs": epochs, "batch_size": 1, "n_ctx": 2]]
        }

        // A finished job, and its prompt set's bytes.
        let (_, first) = try await server!.json("POST", "/v1/tuning/jobs", job(epochs: 2))
        let firstID = try #require(first["id"] as? String)
        let finished = try await server!.waitForJob(firstID)
        #expect(finished["status"] as? String == "succeeded", "\(finished)")
        let promptSet = try #require(finished["prompt_set"] as? String)
        let artifact = folder.url.appendingPathComponent("prompt-sets/\(promptSet)")
        let artifactBytes = try Self.files(in: artifact)

        // A longer job, killed once an epoch checkpoint is on disk. The server is kept frozen
        // (SIGSTOP) and let run in windows of a fraction of a millisecond, so the test sees a
        // checkpoint before the job can finish (the whole job takes well under a second here), and
        // the epoch the checkpoint holds is exactly where the job was killed.
        let epochs = 30
        let (_, second) = try await server!.json("POST", "/v1/tuning/jobs", job(epochs: epochs))
        let secondID = try #require(second["id"] as? String)
        // The checkpoint is in the server's database, read here beside it (WAL: a reader never blocks it).
        let databaseFile = folder.url.appendingPathComponent("data/tagtune.sqlite")
        func checkpointEpochs() throws -> Int? {
            let reader = try DatabaseQueue(path: databaseFile.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
            return try reader.read { try Int.fetchOne($0, sql: "SELECT epochs_done FROM job_checkpoint WHERE job_id = ?", arguments: [secondID]) }
        }
        let secondPromptSet = folder.url.appendingPathComponent("prompt-sets/" + JobRunner.promptSetID(jobID: secondID, suffix: nil))
        let deadline = ContinuousClock.now + .seconds(120)
        var killedAfterEpoch = 0
        server!.pause()
        while killedAfterEpoch == 0 {
            if let done = try checkpointEpochs() {
                try #require(done < epochs, "the job finished before it could be killed")
                killedAfterEpoch = done
                server!.killHard()
            } else {
                // Without these two checks a job that finished unseen would keep this loop going forever.
                try #require(!FileManager.default.fileExists(atPath: secondPromptSet.path), "the job finished before a checkpoint was seen")
                try #require(ContinuousClock.now < deadline, "no checkpoint of job \(secondID) appeared")
                server!.resume()
                usleep(200)
                server!.pause()
            }
        }
        server = nil

        // Start again: the job resumes (an event says so) and succeeds.
        let restarted = try await RecoveryServerProcess(folder: folder.url)
        let resumed = try await restarted.waitForJob(secondID)
        #expect(resumed["status"] as? String == "succeeded", "\(resumed)")
        let progress = try #require(resumed["progress"] as? [String: Any])
        #expect(progress["epoch"] as? Int == progress["epochs"] as? Int, "the final training ran to the epoch its selection chose")
        let messages = try await restarted.allEvents(of: secondID).compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.hasPrefix("the server restarted while the job was running; queued again, it resumes from the checkpoint of epoch") },
                "\(messages)")
        let resumedAt = messages.first { $0.hasPrefix("resumed from the checkpoint of epoch ") }
        let epochText = try #require(resumedAt, "\(messages)").dropFirst("resumed from the checkpoint of epoch ".count).prefix { $0.isNumber }
        let resumedEpoch = try #require(Int(epochText))
        #expect(resumedEpoch == killedAfterEpoch, "resumed from the checkpoint it had when killed")
        let resumedPromptSet = try #require(resumed["prompt_set"] as? String)
        _ = try PromptSet.load(from: folder.url.appendingPathComponent("prompt-sets/\(resumedPromptSet)"))

        // What had finished before the crash is intact.
        let (_, firstAgain) = try await restarted.request("GET", "/v1/tuning/jobs/\(firstID)")
        #expect(firstAgain["status"] as? String == "succeeded")
        #expect(firstAgain["prompt_set"] as? String == promptSet)
        #expect(try Self.files(in: artifact) == artifactBytes)
        let (datasetStatus, datasetAgain) = try await restarted.request("GET", "/v1/datasets/\(datasetID)")
        #expect(datasetStatus == 200 && datasetAgain["images"] as? Int == 12)
        let unpacked = try #require(FileManager.default.contentsOfDirectory(atPath: folder.url.appendingPathComponent("data/cache/datasets").path).first)
        #expect(try DatasetLoader.load(from: folder.url.appendingPathComponent("data/cache/datasets/\(unpacked)")).items.count == 12)
        let (_, jobs) = try await restarted.request("GET", "/v1/tuning/jobs")
        #expect((jobs["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [secondID, firstID])
        #expect(restarted.stop() == 0, "SIGTERM shuts down cleanly")
    }

    /// A batch killed mid-way (SIGKILL, no shutdown code) goes on after a restart from the rows it
    /// had written: its results equal those of a batch never interrupted, each image once, none lost.
    @Test func killedServerFinishesTheBatchWithoutRepeatsOrGaps() async throws {
        let folder = try TemporaryFolder()
        _ = try DatasetFixtures.configuration(in: folder.url)
        // One image per encoder call: results are then bit-identical whatever else runs.
        let arguments = ["--set", "batching.max_batch_size=1"]
        var server: RecoveryServerProcess? = try await RecoveryServerProcess(folder: folder.url, arguments: arguments)
        let count = 48
        let (uploaded, dataset) = try await server!.request("POST", "/v1/datasets", body: try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: count)),
                                                           contentType: "application/zip")
        #expect(uploaded == 201, "\(dataset)")
        let request: [String: Any] = ["dataset": try #require(dataset["id"] as? String), "classes": ["cat", "dog", "traffic light"], "model": "tiny"]
        func rows(_ id: String) throws -> [[String: Any]] {
            let text = try String(contentsOf: folder.url.appendingPathComponent("data/batches/\(id)/results.jsonl"), encoding: .utf8)
            return try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        }

        // The reference: the same batch, never interrupted.
        let (_, first) = try await server!.json("POST", "/v1/batches", request)
        let firstID = try #require(first["id"] as? String)
        #expect(try await server!.waitForJob(firstID, collection: "batches")["status"] as? String == "succeeded")
        let reference = try rows(firstID)

        // Killed once some rows, not all, are on disk (the frozen-process windows of the job test).
        let (_, second) = try await server!.json("POST", "/v1/batches", request)
        let secondID = try #require(second["id"] as? String)
        let partial = folder.url.appendingPathComponent("data/batches/\(secondID)/results.partial.jsonl")
        let deadline = ContinuousClock.now + .seconds(120)
        var writtenAtKill = 0
        server!.pause()
        while writtenAtKill == 0 {
            let lines = ((try? String(contentsOf: partial, encoding: .utf8)) ?? "").filter { $0 == "\n" }.count
            if lines > 0 {
                try #require(lines < count, "the batch finished before it could be killed")
                writtenAtKill = lines
                server!.killHard()
            } else {
                try #require(ContinuousClock.now < deadline, "no row of batch \(secondID) appeared")
                server!.resume()
                usleep(200)
                server!.pause()
            }
        }
        server = nil

        let restarted = try await RecoveryServerProcess(folder: folder.url, arguments: arguments)
        let resumed = try await restarted.waitForJob(secondID, collection: "batches")
        #expect(resumed["status"] as? String == "succeeded", "\(resumed)")
        let messages = try await restarted.allEvents(of: secondID, collection: "batches").compactMap { $0["message"] as? String }
        #expect(messages.contains("resumed after the \(writtenAtKill) images already written"), "\(messages)")
        let results = try rows(secondID)
        #expect(results.map { $0["index"] as? Int } == Array(0..<count), "every image once, in order")
        #expect(NSArray(array: results).isEqual(to: reference), "the same rows as the batch never interrupted")
        #expect(restarted.stop() == 0)
    }

    /// Every file of a folder, by name.
    static func files(in folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            files[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return files
    }
}

/// Start-up repair on the database alone: what each unfinished state becomes.
@Suite("Recovery at start-up")
struct RecoveryRepairTests {
    @Test func unfinishedJobsAreRequeuedOrCancelledAndHalfMadeDatasetsRemoved() async throws {
        let folder = try TemporaryFolder()
        let configuration = try DatasetFixtures.configuration(in: folder.url)
        let layout = DataLayout(configuration: configuration)
        try layout.createFolders()
        do {
            let database = try SQLiteStore(url: layout.database)
            try await database.insert(StoreTests.dataset("ds-a"))
            for (id, status, cancel) in [("ftjob-withcheckpoint", JobStatus.running, false), ("ftjob-fresh", .validatingFiles, false),
                                         ("ftjob-cancelling", .running, true), ("ftjob-done", .succeeded, false)] {
                _ = try await database.createJob(try StoreTests.job(id), datasets: [], event: .message("created"))
                try database.updateJobNow(id) { $0.status = status; $0.cancelRequested = cancel; $0.claimedBy = "r-old" }
            }
        }
        // A checkpoint where servers before v4 kept them: moved into the store at start.
        let state = try StoreTests.trainingState(epochsDone: 2)
        let legacy = layout.dataDirectory.appendingPathComponent("jobs/ftjob-withcheckpoint/checkpoint.json")
        try FileManager.default.createDirectory(at: legacy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JobCheckpointTests.version1JSON(jobID: "ftjob-withcheckpoint", state: state).write(to: legacy)
        // What a crash in the middle of an upload leaves: a staging folder, and a folder without a row.
        try FileManager.default.createDirectory(at: layout.datasets.appendingPathComponent(".staging-ds-x"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: layout.dataset("ds-orphan"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: layout.dataset("ds-a"), withIntermediateDirectories: true)
        // A batch folder whose zip arrived but whose row was never written.
        try FileManager.default.createDirectory(at: layout.batch("batch-orphan"), withIntermediateDirectories: true)

        let test = try TuningTestApp(folder: folder)
        let database = test.backend.store
        let jobs = try await database.jobs(after: nil, limit: 10)!.items
        let status = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0.status) })
        #expect(status == ["ftjob-withcheckpoint": .queued, "ftjob-fresh": .queued, "ftjob-cancelling": .cancelled, "ftjob-done": .succeeded])
        let messages = try await database.events(jobID: "ftjob-withcheckpoint", after: nil, limit: 1)!.items.map(\.message)
        #expect(messages == ["the server restarted while the job was running; queued again, it resumes from the checkpoint of epoch 2/3"])
        let fresh = try await database.events(jobID: "ftjob-fresh", after: nil, limit: 1)!.items.map(\.message)
        #expect(fresh == ["the server restarted while the job was validating_files; queued again, it starts again (no epoch had finished)"])
        #expect(test.folder.contents("data/datasets") == ["ds-a"])
        let imported = try #require(try await database.checkpoint(jobID: "ftjob-withcheckpoint"))
        #expect(try JobCheckpoint.decode(imported.state, jobID: "ftjob-withcheckpoint")?.state.context == state.context)
        #expect(!FileManager.default.fileExists(atPath: legacy.path), "the old checkpoint folder goes once imported")
        // Each job the crash interrupted counts one lost attempt (jobs.max_attempts); none is claimed any more.
        #expect(jobs.filter { $0.status == .queued }.allSatisfy { $0.lostAttempts == 1 && $0.claimedBy == nil })
        #expect(test.folder.contents("data/batches").isEmpty)
    }
}
