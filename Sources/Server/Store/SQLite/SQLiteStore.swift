import Foundation
import GRDB
import NIOConcurrencyHelpers

/// The store on one machine: a SQLite database of datasets, jobs, their events and checkpoints, in
/// WAL mode (readers never wait for the job worker's writes) with its schema kept by GRDB's migrator.
public final class SQLiteStore: TuningStore {
    let pool: DatabasePool
    /// Told the number of jobs in each status after every change of status (the metrics gauge).
    let jobStatusCounts: @Sendable (JobCounts) -> Void
    /// Told each job that has just finished (succeeded, failed, cancelled), after the change is
    /// committed: the webhooks, set once the dispatcher exists.
    let jobFinished = NIOLockedValueBox<(@Sendable (JobRecord) -> Void)?>(nil)

    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    public init(url: URL, jobStatusCounts: @escaping @Sendable (JobCounts) -> Void = { _ in }) throws {
        self.jobStatusCounts = jobStatusCounts
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL with synchronous=NORMAL keeps every committed transaction across a process crash
            // (a power cut may lose the last ones); DatabasePool sets journal_mode=WAL itself.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: url.path, configuration: configuration)
        try Self.migrator.migrate(pool)
        try publishJobStatusCounts()
    }

    /// The schema, one registered migration per change; never edit a migration once shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: datasets, jobs, job events, prompt sets") { db in
            try db.create(table: "dataset") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("created_at", .integer).notNull()
                t.column("image_count", .integer).notNull()
                t.column("class_count", .integer).notNull()
                t.column("summary", .text).notNull()        // DatasetSummary as JSON
            }
            try db.create(table: "job") { t in
                t.autoIncrementedPrimaryKey("seq")           // queue and listing order
                t.column("id", .text).notNull().unique()
                t.column("created_at", .integer).notNull()
                t.column("started_at", .integer)
                t.column("finished_at", .integer)
                t.column("status", .text).notNull()
                t.column("model", .text).notNull()
                t.column("method", .text).notNull()
                // Plain ids, not foreign keys: a finished job keeps naming a dataset deleted since.
                t.column("dataset_id", .text).notNull()
                t.column("validation_dataset_id", .text)
                t.column("hyperparameters", .text).notNull() // TuningHyperparameters as JSON
                t.column("seed", .integer).notNull()
                t.column("suffix", .text)
                t.column("epoch", .integer).notNull().defaults(to: 0)
                t.column("epochs", .integer).notNull()
                t.column("step", .integer).notNull().defaults(to: 0)
                t.column("steps", .integer).notNull().defaults(to: 0)
                t.column("eta_seconds", .double)
                t.column("metrics", .text)                   // JobMetricsSummary as JSON
                t.column("prompt_set_id", .text)
                t.column("error_code", .text)
                t.column("error_message", .text)
                t.column("error_param", .text)
                t.column("cancel_requested", .boolean).notNull().defaults(to: false)
            }
            try db.create(index: "job_by_status", on: "job", columns: ["status", "seq"])
            try db.create(index: "job_by_dataset", on: "job", columns: ["dataset_id"])
            try db.create(table: "job_event") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("id", .text).notNull().unique()
                t.column("job_id", .text).notNull().references("job", column: "id", onDelete: .cascade)
                t.column("created_at", .integer).notNull()
                t.column("level", .text).notNull()
                t.column("type", .text).notNull()
                t.column("message", .text).notNull()
                t.column("data", .text)                      // JSON object, metrics rows only
            }
            try db.create(index: "job_event_by_job", on: "job_event", columns: ["job_id", "seq"])
            try db.create(table: "prompt_set") { t in
                t.primaryKey("id", .text)
                t.column("job_id", .text).notNull()
                t.column("model", .text).notNull()
                t.column("path", .text).notNull()            // the artifact folder
                t.column("created_at", .integer).notNull()
                t.column("class_count", .integer).notNull()
                t.column("metrics", .text)
            }
        }
        // The registry scans the prompt-sets folder and owns prompt sets; this table was written by
        // every finished job and read by nothing (a job's `prompt_set_id` names its artifact).
        migrator.registerMigration("v2: no prompt_set table") { db in
            try db.drop(table: "prompt_set")
        }
        // Batch tagging jobs share the job table, its queue, events and recovery with tuning jobs.
        migrator.registerMigration("v3: job kinds (tuning, batch) and batch options") { db in
            try db.alter(table: "job") { t in
                t.add(column: "kind", .text).notNull().defaults(to: JobKind.tuning.rawValue)
                t.add(column: "options", .text)              // a batch job's options as JSON
            }
            try db.create(index: "job_by_kind", on: "job", columns: ["kind", "seq"])
        }
        // The same leases and fencing as PostgreSQL's (one contract); checkpoints move into the store.
        migrator.registerMigration("v4: leases, attempts, checkpoints") { db in
            try db.alter(table: "job") { t in
                t.add(column: "attempt", .integer).notNull().defaults(to: 0)        // fencing token: +1 on every claim
                t.add(column: "lost_attempts", .integer).notNull().defaults(to: 0)  // attempts whose owner vanished
                t.add(column: "claimed_by", .text)
                t.add(column: "lease_expires_at", .double)                          // unix seconds
            }
            try db.create(table: "job_checkpoint") { t in
                t.primaryKey("job_id", .text).references("job", column: "id", onDelete: .cascade)
                t.column("attempt", .integer).notNull()
                t.column("epochs_done", .integer).notNull()
                t.column("state", .blob).notNull()
                t.column("updated_at", .integer).notNull()
            }
        }
        migrator.registerMigration("v5: signed events, dataset blobs") { db in
            try db.alter(table: "job_event") { t in
                t.add(column: "attempt", .integer)   // the owner attempt that wrote it; NULL when the API did
                t.add(column: "replica", .text)
            }
            try db.alter(table: "dataset") { t in
                t.add(column: "blob_sha256", .text)  // the validated zip in the blob store; NULL: an older unpacked folder
                t.add(column: "blob_bytes", .integer)
            }
        }
        return migrator
    }
}
