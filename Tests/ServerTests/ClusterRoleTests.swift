import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// One binary, three roles (`server.role`), and a shared database that may not be there yet.
@Suite("Replica roles and the shared database")
struct ClusterRoleTests {
    /// A worker replica answers its operators and nothing else: the API lives on `api` replicas.
    @Test func aWorkerReplicaServesOnlyTheOperationsEndpoints() async throws {
        let test = try TuningTestApp(configure: { $0.cluster.role = .worker })
        try await test.application().test(.router) { client in
            for path in ["/healthz", "/metrics", "/info"] {
                let status = try await client.execute(uri: path, method: .get).status
                #expect(status == .ok, "\(path)")
            }
            for (path, method) in [("/v1/models", HTTPRequest.Method.get), ("/v1/tuning/jobs", .get), ("/v1/datasets", .get),
                                   ("/v1/tag", .post), ("/openapi.json", .get)] {
                let status = try await client.execute(uri: path, method: method).status
                #expect(status == .notFound, "\(method) \(path)")
            }
        }
    }

    /// An api replica takes jobs but never runs them: a job it accepts waits for a worker.
    @Test func anAPIReplicaQueuesJobsWithoutRunningThem() async throws {
        let test = try TuningTestApp(configure: { $0.cluster.role = .api; $0.cluster.claimPollSeconds = 0.05 })
        try await test.application().test(.router) { client in
            let dataset = try await JobRoutesTests.uploadDataset(client)
            let (status, created) = try await client.send(.post, "/v1/tuning/jobs", json: JobRoutesTests.job(dataset: dataset, epochs: 1))
            try #require(status == .created, "\(created)")
            let id = try #require(created["id"] as? String)
            try await Task.sleep(for: .seconds(1))
            let (_, job) = try await client.send(.get, "/v1/tuning/jobs/\(id)")
            #expect(job["status"] as? String == "queued", "\(job)")
        }
    }

    /// PostgreSQL not reachable (not started yet, a wrong address): not ready, and the routes that
    /// need it answer 503 `database_unavailable` with Retry-After, while the rest is served.
    @Test func anUnreachableDatabaseMakesTheServerNotReadyAndItsRoutes503() async throws {
        let port = try RecoveryServerProcess.freePort()
        let test = try TuningTestApp(configure: {
            $0.cluster.databaseURL = "postgres://tagtune@127.0.0.1:\(port)/tagtune"
            $0.cluster.replicaID = "r-test"
        })
        try await test.application().test(.router) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(String(buffer: ready.body).contains("database"), "\(String(buffer: ready.body))")
            let alive = try await client.execute(uri: "/healthz", method: .get).status
            #expect(alive == .ok, "alive all the same")
            // Each replica's series carry its name; the cluster-wide job gauge is exported by the one replica
            // that reads it from the database, so not by one that cannot reach it (it showed zeros).
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let series = metrics.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.hasPrefix("tagtune_") }
            #expect(series.contains { $0.hasPrefix("tagtune_inference_queue_depth{replica=\"r-test\"}") }, "\(series)")
            #expect(!series.contains { $0.hasPrefix("tagtune_tuning_jobs") || $0.hasPrefix("tagtune_batch_jobs") }, "\(series)")
            let (status, body) = try await client.send(.get, "/v1/datasets")
            #expect(status == .serviceUnavailable)
            #expect((body["error"] as? [String: Any])?["code"] as? String == "database_unavailable", "\(body)")
        }
    }

    /// What the server says while PostgreSQL restarts is "unavailable" (503, try again), not an
    /// internal error: a request in flight at the restart got 57P01 and answered 500.
    @Test func aDatabaseShuttingDownIsUnavailableNotAnError() {
        for state in ["57P01", "57P02", "57P03", "08006", "08001", "53300"] {
            #expect(StoreUnavailable.unavailable(sqlState: state), "\(state)")
        }
        for state in ["23505", "42P01", "40001", "22P02"] {
            #expect(!StoreUnavailable.unavailable(sqlState: state), "\(state) is the query's problem")
        }
    }
}
