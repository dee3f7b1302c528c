import CLIP
import Foundation
import GRDB
import NIOConcurrencyHelpers
import Testing
import Tuning
@testable import Server

/// The SQLite store's own: schema, WAL mode and migrations (the behaviour both stores share is in StoreContractTests).
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

    /// A trainer on the tiny encoder with four images of fixed features, 3 epochs and 2 context
    /// tokens unless `configure` says otherwise: real training states for checkpoint tests.
    static func tinyTrainer(_ configure: (inout TuningHyperparameters) -> Void = { _ in }) throws -> PromptTrainer {
        let model = try CLIPModel(directory: DatasetFixtures.tinyModel)
        let d = model.configuration.projectionDim
        let features = (0..<(4 * d)).map { Float(($0 * 37) % 11) / 11 - 0.5 }
        let data = try TrainingData(classNames: ["cat", "dog"], trainFeatures: features, trainLabels: [1, 0, 0, 1, 1, 1, 0, 1],
                                    captionFeatures: features, validationFeatures: [], validationLabels: [], dimension: d)
        var h = TuningHyperparameters()
        h.epochs = 3
        h.contextLength = 2
        configure(&h)
        return try PromptTrainer(model: model, data: data, hyperparameters: h)
    }

    /// A real trainer state on the tiny encoder (random features), for checkpoint tests.
    static func trainingState(epochsDone: Int) throws -> TrainingState {
        var state = try tinyTrainer().initialState()
        state.epochsDone = epochsDone
        return state
    }

    @Test func schemaIsMigratedOnceInWALMode() async throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("db/tagtune.sqlite")
        do {
            let database = try SQLiteStore(url: url)
            try await database.insert(Self.dataset("ds-a"))
            let mode = try await database.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            let tables = try await database.pool.read {
                try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            }
            // No prompt_set table: it was written by every finished job and read by nothing (v2 drops it).
            #expect(tables == ["dataset", "grdb_migrations", "job", "job_checkpoint", "job_event"])
        }
        // Reopened: the migration is not run again and the data is there.
        let reopened = try SQLiteStore(url: url)
        #expect(try await reopened.dataset("ds-a")?.name == "ds-a")
        let applied = try await reopened.pool.read { try SQLiteStore.migrator.appliedMigrations($0) }
        #expect(applied.count == SQLiteStore.migrator.migrations.count)
    }

    @Test func aDatabaseFromBeforeV2LosesOnlyItsPromptSetTable() async throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("tagtune.sqlite")
        do {
            // The schema as v1 left it, with a row in each table.
            let pool = try DatabasePool(path: url.path)
            try SQLiteStore.migrator.migrate(pool, upTo: "v1: datasets, jobs, job events, prompt sets")
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO dataset (id, name, created_at, image_count, class_count, summary) VALUES ('ds-a', 'ds-a', 0, 1, 1, '{}')
                    """)
                try db.execute(sql: "INSERT INTO prompt_set (id, job_id, model, path, created_at, class_count) VALUES ('ps-a', 'j', 'tiny', '/x', 0, 2)")
            }
        }
        let database = try SQLiteStore(url: url)
        #expect(try await database.dataset("ds-a")?.name == "ds-a")
        #expect(try await database.pool.read { try $0.tableExists("prompt_set") } == false)
    }
}
