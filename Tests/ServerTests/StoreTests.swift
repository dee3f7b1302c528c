import CLIP
import Foundation
import GRDB
import NIOConcurrencyHelpers
import Testing
import Tuning
@testable import Server

/// The SQLite store: schema and WAL mode, queue order, cursor pages, events, status counts.
@Suite("Store")
struct StoreTests {
    static func dataset(_ id: String) -> DatasetRecord {
        DatasetRecord(id: id, name: id, createdAt: unixNow(), imageCount: 4, classCount: 2, summary: "{}")
    }

    static func job(_ id: String) throws -> JobRecord {
        var h = TuningHyperparameters()
        h.epochs = 3
        return JobRecord(id: id, createdAt: unixNow(), status: .queued, model: "tiny", method: "lmpt", datasetID: "ds-a",
                         hyperparameters: String(decoding: try JSONEncoder().encode(h), as: UTF8.self), seed: 0, epochs: 3)
    }

    /// A real trainer state on the tiny encoder (random features), for checkpoint tests.
    static func trainingState(epochsDone: Int) throws -> TrainingState {
        let model = try CLIPModel(directory: DatasetFixtures.tinyModel)
        let d = model.configuration.projectionDim
        let features = (0..<(4 * d)).map { Float(($0 * 37) % 11) / 11 - 0.5 }
        let data = try TrainingData(classNames: ["cat", "dog"], trainFeatures: features, trainLabels: [1, 0, 0, 1, 1, 1, 0, 1],
                                    captionFeatures: features, validationFeatures: [], validationLabels: [], dimension: d)
        var h = TuningHyperparameters()
        h.epochs = 3
        h.contextLength = 2
        var state = try PromptTrainer(model: model, data: data, hyperparameters: h).initialState()
        state.epochsDone = epochsDone
        return state
    }

    @Test func schemaIsMigratedOnceInWALMode() async throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("db/tagtune.sqlite")
        do {
            let database = try TuningDatabase(url: url)
            try await database.insert(Self.dataset("ds-a"))
            let mode = try await database.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            let tables = try await database.pool.read {
                try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            }
            // No prompt_set table: it was written by every finished job and read by nothing (v2 drops it).
            #expect(tables == ["dataset", "grdb_migrations", "job", "job_event"])
        }
        // Reopened: the migration is not run again and the data is there.
        let reopened = try TuningDatabase(url: url)
        #expect(try await reopened.dataset("ds-a")?.name == "ds-a")
        let applied = try await reopened.pool.read { try TuningDatabase.migrator.appliedMigrations($0) }
        #expect(applied.count == TuningDatabase.migrator.migrations.count)
    }

    @Test func aDatabaseFromBeforeV2LosesOnlyItsPromptSetTable() async throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("tagtune.sqlite")
        do {
            // The schema as v1 left it, with a row in each table.
            let pool = try DatabasePool(path: url.path)
            try TuningDatabase.migrator.migrate(pool, upTo: "v1: datasets, jobs, job events, prompt sets")
            try await pool.write { db in
                try Self.dataset("ds-a").insert(db)
                try db.execute(sql: "INSERT INTO prompt_set (id, job_id, model, path, created_at, class_count) VALUES ('ps-a', 'j', 'tiny', '/x', 0, 2)")
            }
        }
        let database = try TuningDatabase(url: url)
        #expect(try await database.dataset("ds-a")?.name == "ds-a")
        #expect(try await database.pool.read { try $0.tableExists("prompt_set") } == false)
    }

    @Test func queueRunsOldestFirstAndEachJobOnce() async throws {
        let folder = try TemporaryFolder()
        let counts = NIOLockedValueBox<[JobStatus: Int]>([:])
        let database = try TuningDatabase(url: folder.url.appendingPathComponent("t.sqlite"), jobStatusCounts: { c in counts.withLockedValue { $0 = c } })
        try await database.insert(Self.dataset("ds-a"))
        for id in ["ftjob-1", "ftjob-2", "ftjob-3"] {
            let created = try await database.createJob(try Self.job(id), datasets: [(param: "dataset", id: "ds-a")], event: .message("created"))
            guard case .created = created else { Issue.record("not created: \(created)"); return }
        }
        let missing = try await database.createJob(try Self.job("ftjob-x"), datasets: [(param: "validation_dataset", id: "ds-b")],
                                                   event: .message("created"))
        guard case .missingDataset(let param, let id) = missing else { Issue.record("created without its dataset"); return }
        #expect(param == "validation_dataset" && id == "ds-b")
        #expect(counts.withLockedValue { $0[.queued] } == 3)

        // Claims from several threads at once: each job exactly once, oldest first overall.
        let claimed = NIOLockedValueBox<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            if let job = try? database.claimNextQueuedJob() { claimed.withLockedValue { $0.append(job.id) } }
        }
        #expect(claimed.withLockedValue { $0 }.sorted() == ["ftjob-1", "ftjob-2", "ftjob-3"])
        #expect(try database.claimNextQueuedJob() == nil)
        #expect(try await database.job("ftjob-1")?.status == .validatingFiles)
        #expect(try await database.job("ftjob-1")?.startedAt != nil)
        #expect(counts.withLockedValue { $0 } == [.validatingFiles: 3, .queued: 0, .running: 0, .succeeded: 0, .failed: 0, .cancelled: 0])

        // Cancel: a running job is only marked; a finished one is a conflict.
        try database.updateJob("ftjob-2") { $0.status = .running }
        guard case .requested(let marked) = try await database.cancelJob("ftjob-2") else { Issue.record("not requested"); return }
        #expect(marked.cancelRequested && marked.status == .running)
        try database.updateJob("ftjob-3") { $0.status = .succeeded }
        guard case .finished = try await database.cancelJob("ftjob-3") else { Issue.record("a finished job was cancelled"); return }
    }

    @Test func listingsPageNewestFirstWithCursors() async throws {
        let folder = try TemporaryFolder()
        let database = try TuningDatabase(url: folder.url.appendingPathComponent("t.sqlite"))
        for i in 1...5 { _ = try await database.createJob(try Self.job("ftjob-\(i)"), datasets: [], event: .message("created \(i)")) }
        let first = try #require(try await database.jobs(after: nil, limit: 2))
        #expect(first.items.map(\.id) == ["ftjob-5", "ftjob-4"] && first.hasMore)
        let second = try #require(try await database.jobs(after: "ftjob-4", limit: 2))
        #expect(second.items.map(\.id) == ["ftjob-3", "ftjob-2"] && second.hasMore)
        let last = try #require(try await database.jobs(after: "ftjob-2", limit: 2))
        #expect(last.items.map(\.id) == ["ftjob-1"] && !last.hasMore)
        #expect(try await database.jobs(after: "ftjob-none", limit: 2) == nil)

        for step in 1...3 {
            try database.updateJob("ftjob-1", events: [.metrics("step \(step)", JobEventData(step: step, loss: 1.0 / Double(step)))]) {
                $0.step = step
            }
        }
        let events = try #require(try await database.events(jobID: "ftjob-1", after: nil, limit: 3))
        #expect(events.items.map(\.message) == ["step 3", "step 2", "step 1"] && events.hasMore)
        let older = try #require(try await database.events(jobID: "ftjob-1", after: events.items[2].id, limit: 3))
        #expect(older.items.map(\.message) == ["created 1"] && !older.hasMore)
        #expect(try await database.events(jobID: "ftjob-2", after: events.items[0].id, limit: 3) == nil, "another job's cursor")
        let data = try JSONDecoder().decode(JobEventData.self, from: Data(try #require(events.items[0].data).utf8))
        #expect(data == JobEventData(step: 3, loss: 1.0 / 3))
    }

    @Test func checkpointRoundTripsAndBelongsToItsJob() throws {
        let folder = try TemporaryFolder()
        let state = try Self.trainingState(epochsDone: 2)
        try JobCheckpoint(jobID: "ftjob-a", state: state).write(to: folder.url)
        let loaded = try #require(try JobCheckpoint.load(from: folder.url, jobID: "ftjob-a"))
        #expect(loaded.state.epochsDone == 2)
        #expect(loaded.state.context == state.context, "floats survive JSON exactly")
        #expect(try JobCheckpoint.load(from: folder.url, jobID: "ftjob-b") == nil)
        #expect(folder.contents("") == [JobCheckpoint.fileName], "no temporary file is left")
    }
}
