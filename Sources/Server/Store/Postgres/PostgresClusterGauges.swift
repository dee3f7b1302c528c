import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The gauges that describe the whole cluster (`tagtune_tuning_jobs{status}`, `tagtune_batch_jobs{status}`) come from one replica
/// at a time, so that Prometheus sees one series per status and never a stale copy from another
/// replica.
///
/// Each replica keeps a dedicated connection (`tagtune-gauges-<replica>` in `pg_stat_activity`) and
/// tries a session-level advisory lock on it every `interval`. The holder reads the counts every
/// `interval` and publishes them; every other replica publishes nil (the series withdrawn). The lock
/// lives as long as the holder's connection: when the holder dies or is cut off, the database drops
/// the lock and the next replica to try takes over within an interval, and the holder withdraws its
/// series the moment its connection fails.
final class PostgresClusterGauges: Service, Sendable {
    /// Any number for the lock; it must differ from the migration and housekeeping locks.
    static let lock: Int64 = 0x7461_6774_756e_6503

    let url: PostgresURL
    let replica: String
    let interval: Duration
    /// The counts while this replica holds the lock; nil when it does not (any more).
    let publish: @Sendable (JobCounts?) -> Void
    /// Returns once the schema is there (the store's migrations); throws while it is not.
    let schemaReady: @Sendable () async throws -> Void
    let logger: Logger

    init(url: PostgresURL, replica: String, interval: Duration = .seconds(5), logger: Logger,
         schemaReady: @escaping @Sendable () async throws -> Void = {},
         publish: @escaping @Sendable (JobCounts?) -> Void) {
        self.schemaReady = schemaReady
        self.url = url
        self.replica = replica
        self.interval = interval
        self.logger = logger
        self.publish = publish
    }

    var applicationName: String { "tagtune-gauges-\(replica)" }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var connections = 0
            while !Task.isCancelled {
                do {
                    // Before the first migration there is no job table to count: a count that failed
                    // then kept the gauge away for a whole interval (a short run never saw it).
                    try await self.schemaReady()
                    let connection = try await PostgresConnection.connect(
                        configuration: self.url.connectionConfiguration, id: connections, logger: self.logger)
                    connections += 1
                    try await self.serve(on: connection)
                } catch where !Task.isCancelled {
                    // `serve` has withdrawn the series already (no lock is held before it runs).
                    self.logger.debug("the cluster gauges' connection failed; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: self.interval)
            }
        }
        publish(nil)
    }

    /// Tries the lock, then publishes while holding it, until the connection fails or the task ends.
    private func serve(on connection: PostgresConnection) async throws {
        do {
            try await connection.query("SELECT set_config('application_name', \(applicationName), false)", logger: logger)
            var holding = false
            // A connection cut off without a word can leave a query waiting for minutes: give up
            // on it (and withdraw) long before another replica could have taken the lock over.
            let limit = max(interval * 2, .seconds(5))
            let (lock, logger) = (Self.lock, logger)
            while !Task.isCancelled {
                if !holding {
                    holding = try await Deadline.run(limit, onTimeout: GaugeQueryTimedOut()) {
                        let rows = try await connection.query("SELECT pg_try_advisory_lock(\(lock))", logger: logger).collect()
                        return try rows.first?.decode(Bool.self) == true
                    }
                    if holding { logger.info("this replica exports the cluster's job gauges") }
                }
                publish(holding ? try await Deadline.run(limit, onTimeout: GaugeQueryTimedOut()) {
                    try await Self.jobCounts(connection, logger: logger)
                } : nil)
                try await Task.sleep(for: interval)
            }
        } catch {
            publish(nil)
            Task { try? await connection.close() }
            throw error
        }
        try? await connection.close()
    }

    private struct GaugeQueryTimedOut: Error, CustomStringConvertible {
        var description: String { "the database did not answer the cluster gauges' query in time" }
    }

    static func jobCounts(_ connection: PostgresConnection, logger: Logger) async throws -> JobCounts {
        var counts = JobCounts()
        let rows = try await connection.query(PostgresQuery(unsafeSQL: JobCounts.query), logger: logger)
        for try await (kind, status, n) in rows.decode((String, String, Int).self) {
            counts.add(kind: kind, status: status, count: n)
        }
        return counts
    }
}
