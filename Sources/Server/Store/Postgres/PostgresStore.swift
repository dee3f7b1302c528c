import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The store shared by replicas: PostgreSQL through postgres-nio's pooled `PostgresClient`.
///
/// It is a lifecycle service: `run()` runs the client, applies the schema's migrations (under an
/// advisory lock, so replicas starting together apply them once) and then opens the store; a call
/// made before that waits for it, up to `startTimeout`, then fails as `StoreUnavailable`. Listed
/// first among the services, it stops last, after the job worker has handed its jobs back.
///
/// Rows travel as JSON (`to_json(row)` out, `json_populate_record` in) decoded by the records'
/// own `Codable` conformance, so one column list per table serves both stores.
final class PostgresStore: TuningStore, Service {
    let client: PostgresClient
    let logger: Logger
    let jobFinished = NIOLockedValueBox<(@Sendable (JobRecord) -> Void)?>(nil)
    private let ready = AsyncGate()
    let startTimeout: Duration
    /// Longest a transaction may take before its caller is told the database is unavailable.
    let transactionDeadline: Duration

    /// `idleTransactionSeconds`: a transaction left idle this long has its session ended by the
    /// server. A replica paused (or cut off) in the middle of a transaction would otherwise keep
    /// its job's row locked, and `SKIP LOCKED` claims would pass it by: no takeover until it came
    /// back. The job lease is the natural bound (`jobs.lease_seconds`).
    init(url: PostgresURL, logger: Logger, startTimeout: Duration = .seconds(5), idleTransactionSeconds: Double = 30,
         applicationName: String = "tagtune") {
        var configuration = url.clientConfiguration
        configuration.options.maximumConnections = 10
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [
            ("application_name", applicationName),
            ("idle_in_transaction_session_timeout", String(Int(idleTransactionSeconds * 1000))),
        ]
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.startTimeout = startTimeout
        transactionDeadline = .milliseconds(Int64(max(2 * idleTransactionSeconds, 5) * 1000))
    }

    var isReady: Bool { ready.isOpen }

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            // The database may still be starting (a cluster's first minutes): try again until it answers.
            var delay = Duration.milliseconds(200)
            while true {
                do {
                    try await migrate()
                    break
                } catch where !Task.isCancelled && !Task.isShuttingDownGracefully {
                    logger.warning("cannot prepare the database; trying again", metadata: ["error": "\(String(reflecting: error))"])
                    try await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(5))
                }
            }
            ready.open()
        }
    }

    /// Waits until the store is open; `StoreUnavailable` after `startTimeout`.
    func opened() async throws {
        try await ready.wait(timeout: startTimeout, timeoutError: StoreUnavailable(reason: "the database is not ready"))
    }

    // MARK: Transactions

    /// Runs `body` in a transaction on one pooled connection: committed when it returns, rolled
    /// back when it throws, whose error is rethrown as it was (postgres-nio wraps it).
    /// A transaction that takes longer than `transactionDeadline` is abandoned: its caller gets
    /// `StoreUnavailable`. postgres-nio 1.33.2 never ends a query sent on a connection the server
    /// has closed in the middle of a transaction (an idle-transaction timeout after a pause, a
    /// restart), and a job's owner waiting on it forever would hold its worker slot forever.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await opened()
        let (client, logger) = (self.client, self.logger)
        return try await Deadline.run(transactionDeadline, onTimeout: StoreUnavailable(reason: "a database transaction did not finish in time")) {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// One statement outside a transaction; its rows.
    /// Bounded by the same deadline as a transaction: while the database is down a read answers
    /// 503 after it instead of waiting for the database to come back.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await opened()
        let (client, logger) = (self.client, self.logger)
        return try await Deadline.run(transactionDeadline, onTimeout: StoreUnavailable(reason: "the database did not answer in time")) {
            try await client.query(query, logger: logger).collect()
        }
    }

    // MARK: Schema

    /// Schema versions, in order; never edit one once shipped.
    static let migrations: [(name: String, statements: [String])] = [
        ("v1: datasets, jobs with leases, events, checkpoints", [
            """
            CREATE TABLE dataset (
              seq bigserial UNIQUE NOT NULL, id text PRIMARY KEY, name text NOT NULL, created_at bigint NOT NULL,
              image_count integer NOT NULL, class_count integer NOT NULL, summary text NOT NULL)
            """,
            """
            CREATE TABLE job (
              seq bigserial UNIQUE NOT NULL, id text PRIMARY KEY, kind text NOT NULL DEFAULT 'tuning',
              created_at bigint NOT NULL, started_at bigint, finished_at bigint,
              status text NOT NULL CHECK (status IN ('queued', 'validating_files', 'running', 'succeeded', 'failed', 'cancelled')),
              model text NOT NULL, method text NOT NULL,
              dataset_id text NOT NULL, validation_dataset_id text,  -- plain ids: a finished job outlives its dataset
              hyperparameters text NOT NULL, seed bigint NOT NULL, suffix text, options text,
              epoch integer NOT NULL DEFAULT 0, epochs integer NOT NULL, step integer NOT NULL DEFAULT 0,
              steps integer NOT NULL DEFAULT 0, eta_seconds double precision, metrics text, prompt_set_id text,
              error_code text, error_message text, error_param text,
              cancel_requested boolean NOT NULL DEFAULT false,
              attempt integer NOT NULL DEFAULT 0,          -- fencing token: +1 on every claim
              lost_attempts integer NOT NULL DEFAULT 0,    -- attempts whose owner vanished
              claimed_by text, lease_expires_at timestamptz)
            """,
            "CREATE INDEX job_queued ON job (seq) WHERE status = 'queued'",
            "CREATE INDEX job_leased ON job (lease_expires_at) WHERE status IN ('validating_files', 'running')",
            "CREATE INDEX job_by_kind ON job (kind, seq)",
            "CREATE INDEX job_by_dataset ON job (dataset_id)",
            """
            CREATE TABLE job_event (
              seq bigserial PRIMARY KEY, id text UNIQUE NOT NULL, job_id text NOT NULL REFERENCES job (id) ON DELETE CASCADE,
              created_at bigint NOT NULL, level text NOT NULL, type text NOT NULL, message text NOT NULL, data text)
            """,
            "CREATE INDEX job_event_by_job ON job_event (job_id, seq)",
            """
            CREATE TABLE job_checkpoint (
              job_id text PRIMARY KEY REFERENCES job (id) ON DELETE CASCADE, attempt integer NOT NULL,
              epochs_done integer NOT NULL, state bytea NOT NULL, updated_at bigint NOT NULL)
            """,
        ]),
        ("v2: signed events, dataset blobs, prompt sets and defaults", [
            "ALTER TABLE job_event ADD COLUMN attempt integer, ADD COLUMN replica text",
            "ALTER TABLE dataset ADD COLUMN blob_sha256 text, ADD COLUMN blob_bytes bigint",
            """
            CREATE TABLE prompt_set (
              id text PRIMARY KEY, version integer NOT NULL, job_id text,
              manifest bytea NOT NULL, manifest_sha256 text NOT NULL, tensors bytea NOT NULL, tensors_sha256 text NOT NULL,
              created_at bigint NOT NULL, updated_at bigint NOT NULL)
            """,
            """
            CREATE TABLE model_default (
              model text PRIMARY KEY, prompt_set_id text NOT NULL REFERENCES prompt_set (id), updated_at bigint NOT NULL)
            """,
        ]),
    ]

    /// Any number for the advisory lock that serialises migrations, the same in every replica.
    static let migrationLock: Int64 = 0x7461_6774_756e_6501

    /// Applies the migrations not yet applied, in one transaction under the advisory lock: a
    /// replica that starts while another migrates waits, then finds nothing to do.
    func migrate() async throws {
        let applied = try await client.withConnection { connection -> [String] in
            try await connection.query("BEGIN", logger: logger)
            do {
                // A migration may legitimately pause between statements (a loaded machine): no idle limit here.
                try await connection.query("SET LOCAL idle_in_transaction_session_timeout = 0", logger: logger)
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS schema_migration (
                      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                var done = Set<Int>()
                for try await version in try await connection.query("SELECT version FROM schema_migration", logger: logger)
                    .decode(Int.self) { done.insert(version) }
                var applied: [String] = []
                for (index, migration) in Self.migrations.enumerated() where !done.contains(index + 1) {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("INSERT INTO schema_migration (version, name) VALUES (\(index + 1), \(migration.name))",
                                               logger: logger)
                    applied.append(migration.name)
                }
                try await connection.query("COMMIT", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
        for name in applied { logger.notice("database migrated", metadata: ["migration": .string(name)]) }
    }
}

/// The database cannot be reached (or is not ready): requests that need it answer 503.
struct StoreUnavailable: Error, Sendable, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
