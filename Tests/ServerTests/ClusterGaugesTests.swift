import Foundation
import Logging
import NIOConcurrencyHelpers
import Prometheus
import Testing
@testable import Server

/// `tagtune_tuning_jobs` describes the whole cluster, so exactly one replica exports it: the one
/// holding the gauges' advisory lock. It follows the database (completions too), and another replica
/// takes over when the holder stops or loses its connection.
@Suite("Cluster gauges")
struct ClusterGaugesTests {
    /// One replica's publisher, and the last thing it published (nil: it exports nothing).
    final class Replica: Sendable {
        let name: String
        let published = NIOLockedValueBox<JobCounts?>(nil)
        let task: NIOLockedValueBox<Task<Void, any Error>?> = .init(nil)
        let gauges: PostgresClusterGauges

        init(_ name: String, url: PostgresURL) {
            self.name = name
            let published = self.published
            gauges = PostgresClusterGauges(url: url, replica: name, interval: .milliseconds(100), logger: Logger(label: name),
                                           publish: { counts in published.withLockedValue { $0 = counts } })
        }

        func start() { let gauges = self.gauges; task.withLockedValue { $0 = Task { try await gauges.run() } } }
        func stop() async { let task = task.withLockedValue { $0 }; task?.cancel(); _ = await task?.result }
        var counts: JobCounts? { published.withLockedValue { $0 } }
    }

    static func exporters(_ replicas: [Replica]) -> [Replica] { replicas.filter { $0.counts != nil } }

    /// Waits (up to 5 s) until exactly one replica exports, and it shows `expected` where given.
    static func oneExporter(_ replicas: [Replica], showing expected: [JobStatus: Int]? = nil) async throws -> Replica {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let exporting = exporters(replicas)
            if exporting.count == 1, expected.map({ e in e.allSatisfy { exporting[0].counts?.tuning[$0.key] == $0.value } }) ?? true {
                return exporting[0]
            }
            guard ContinuousClock.now < deadline else {
                throw TestPostgresError(description: "exporting: \(exporting.map { "\($0.name) \($0.counts?.tuning ?? [:])" }), wanted \(expected ?? [:])")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func oneReplicaAtATimeExportsTheClusterCountsAndAnotherTakesOver() async throws {
        let url = try await TestPostgres.shared.freshDatabase()
        try await TestPostgres.withRunning(PostgresStore(url: url, logger: Logger(label: "test"), startTimeout: .seconds(60))) { store in
            let replicas = ["r1", "r2", "r3"].map { Replica($0, url: url) }
            replicas.forEach { $0.start() }
            defer { for replica in replicas { replica.task.withLockedValue { $0 }?.cancel() } }
            _ = try await Self.oneExporter(replicas, showing: [.queued: 0, .succeeded: 0])

            // The counts follow the database, whichever replica wrote: a job completing included.
            try await store.insert(StoreTests.dataset("ds-a"))
            for id in ["ftjob-1", "ftjob-2"] {
                _ = try await store.createJob(try StoreTests.job(id), datasets: [], event: .message("created"))
            }
            let claim = try #require(try await store.claimNextJob(replica: "elsewhere", leaseSeconds: 30))
            _ = try await store.completeJob(claim.lease, promptSetID: "ps-a", files: nil, event: .message("succeeded")) { $0.finishedAt = unixNow() }
            let holder = try await Self.oneExporter(replicas, showing: [.queued: 1, .succeeded: 1, .running: 0, .validatingFiles: 0])
            // Stable: a second look a few intervals later finds the same single exporter.
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await Self.oneExporter(replicas) === holder)

            // The holder stops (its connection closes, the lock goes with it): another exports within an interval or so.
            await holder.stop()
            #expect(holder.counts == nil, "a stopped replica withdraws its series")
            let heir = try await Self.oneExporter(replicas, showing: [.queued: 1, .succeeded: 1])
            #expect(heir !== holder)

            // The heir's connection is cut by the database: it withdraws, and one replica (it again, or the other) exports.
            let cut = try TestPostgres.run("/usr/bin/env", ["psql", "-h", url.host, "-p", String(url.port), "-U", url.user, "-d", url.database,
                                                            "-qAtc", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                                                + "WHERE application_name = 'tagtune-gauges-\(heir.name)'"])
            #expect(cut.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
            _ = try await Self.oneExporter(replicas, showing: [.queued: 1, .succeeded: 1])
        }
    }

    /// A replica starting on an empty database exports the counts as soon as the migrations are
    /// done, not an interval later (the first count used to fail on the missing table; a short run
    /// never saw the gauge).
    @Test func theCountsAppearOnceTheSchemaIsThere() async throws {
        let url = try await TestPostgres.shared.freshDatabase()
        let store = PostgresStore(url: url, logger: Logger(label: "test"), startTimeout: .seconds(60))
        let published = NIOLockedValueBox<JobCounts?>(nil)
        let gauges = PostgresClusterGauges(url: url, replica: "r1", interval: .seconds(30), logger: Logger(label: "r1"),
                                           schemaReady: { try await store.opened() },
                                           publish: { counts in published.withLockedValue { $0 = counts } })
        let publisher = Task { try await gauges.run() }
        defer { publisher.cancel() }
        try await Task.sleep(for: .milliseconds(200))   // the publisher is waiting before the store runs
        try await TestPostgres.withRunning(store) { _ in
            let deadline = ContinuousClock.now + .seconds(10)
            while published.withLockedValue({ $0 }) == nil && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(published.withLockedValue { $0 } == JobCounts(), "counts (all zero) within 10 s, the interval being 30 s")
        }
    }

    /// Withdrawn, the series leave `/metrics`; exported again, they come back with the new values.
    @Test func withdrawnCountsLeaveTheMetricsPage() {
        let registry = PrometheusCollectorRegistry()
        let metrics = JobMetrics(factory: PrometheusMetricsFactory.tagtune(registry, replica: "r1"))
        func page() -> String { var bytes: [UInt8] = []; registry.emit(into: &bytes); return String(decoding: bytes, as: UTF8.self) }
        #expect(!page().contains("_jobs{status"), "nothing until this replica holds the counts")
        metrics.publish(JobCounts(tuning: [.queued: 2, .running: 1], batches: [.queued: 4]))
        #expect(page().contains("tagtune_tuning_jobs{status=\"queued\"} 2"), "\(page())")
        #expect(page().contains("tagtune_tuning_jobs{status=\"succeeded\"} 0"), "every status, zero when none")
        #expect(page().contains("tagtune_batch_jobs{status=\"queued\"} 4"), "\(page())")
        metrics.publish(nil)
        #expect(!page().contains("_jobs{status"))
        #expect(page().contains("tagtune_job_takeovers_total{replica=\"r1\"}"), "the replica's own series stay")
        metrics.publish(JobCounts())
        #expect(page().contains("tagtune_tuning_jobs{status=\"queued\"} 0") && page().contains("tagtune_batch_jobs{status=\"queued\"} 0"))
    }
}
