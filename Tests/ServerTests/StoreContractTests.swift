import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import Server

/// The store's contract, run against SQLite and PostgreSQL alike: the queue, cursor pages, cancel,
/// and the leases — claims, takeover of an expired lease, renewal, fencing of every owner write,
/// hand-back, checkpoints — that let several replicas share one job table.
@Suite("Store contract")
struct StoreContractTests {
    static func job(_ id: String) throws -> JobRecord { try StoreTests.job(id) }

    /// A claim that must happen, for `replica`.
    static func claim(_ store: any TuningStore, _ replica: String, lease: Double = 30) async throws -> JobClaim {
        try #require(try await store.claimNextJob(replica: replica, leaseSeconds: lease), "\(replica) found nothing to claim")
    }

    /// Waits up to 5 s for `condition` (PostgreSQL's counts arrive by polling), then records a failure.
    static func eventually(_ what: String, _ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("never: \(what)"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func messages(_ store: any TuningStore, _ id: String) async throws -> [String] {
        try #require(try await store.events(jobID: id, after: nil, limit: 100)).items.map(\.message).reversed()
    }

    @Test(arguments: StoreBackend.allCases)
    func queueRunsOldestFirstAndEachJobOnce(_ backend: StoreBackend) async throws {
        let counts = NIOLockedValueBox(JobCounts())
        try await backend.withStore(statusCounts: { c in counts.withLockedValue { $0 = c } }) { store in
            try await store.insert(StoreTests.dataset("ds-a"))
            for id in ["ftjob-1", "ftjob-2", "ftjob-3"] {
                let created = try await store.createJob(try Self.job(id), datasets: [(param: "dataset", id: "ds-a")], event: .message("created"))
                guard case .created(let job) = created else { Issue.record("not created: \(created)"); return }
                #expect(job.seq != nil && job.attempt == 0 && job.claimedBy == nil)
            }
            let missing = try await store.createJob(try Self.job("ftjob-x"), datasets: [(param: "validation_dataset", id: "ds-b")],
                                                    event: .message("created"))
            guard case .missingDataset(let param, let id) = missing else { Issue.record("created without its dataset"); return }
            #expect(param == "validation_dataset" && id == "ds-b")
            #expect(try await store.job("ftjob-x") == nil, "nothing of a refused job is stored")
            var batch = try Self.job("batch-1")
            batch.kind = .batch
            _ = try await store.createJob(batch, datasets: [], event: .message("created"))
            try await Self.eventually("three tuning jobs and a batch queued") {
                counts.withLockedValue { $0.tuning[.queued] == 3 && $0.batches[.queued] == 1 }
            }

            // Six claims at once from three replicas: each job exactly once.
            let claims = try await withThrowingTaskGroup(of: JobClaim?.self) { group in
                for i in 0..<6 { group.addTask { try await store.claimNextJob(replica: "r\(i % 3)", leaseSeconds: 30) } }
                return try await group.reduce(into: [JobClaim]()) { if let claim = $1 { $0.append(claim) } }
            }
            #expect(claims.map(\.job.id).sorted() == ["batch-1", "ftjob-1", "ftjob-2", "ftjob-3"])
            #expect(claims.allSatisfy { $0.lease.attempt == 1 && !$0.isTakeover && $0.job.claimedBy == $0.lease.replica })
            #expect(try await store.claimNextJob(replica: "r9", leaseSeconds: 30) == nil)
            let first = try #require(try await store.job("ftjob-1"))
            #expect(first.status == .validatingFiles && first.startedAt != nil && first.attempt == 1)
            try await Self.eventually("three validating") {
                counts.withLockedValue { $0 } == JobCounts(tuning: [.validatingFiles: 3], batches: [.validatingFiles: 1])
            }
        }
    }

    /// Events the owner writes carry its attempt and replica (so a fenced-out owner's writes are
    /// visible as such); housekeeping prunes old events of finished jobs only, one replica at a time.
    @Test(arguments: StoreBackend.allCases)
    func ownerEventsAreSignedAndOnlyFinishedJobsLoseOldEvents(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for id in ["ftjob-done", "ftjob-live"] {
                _ = try await store.createJob(try Self.job(id), datasets: [], event: .message("created"))
            }
            let done = try await Self.claim(store, "r1")
            try await store.appendEvent(.message("working"), lease: done.lease)
            try await store.finishJob(done.lease, events: [.message("cancelled")]) { $0.status = .cancelled }
            let live = try await Self.claim(store, "r2")
            try await store.appendEvent(.message("working"), lease: live.lease)
            let signed = try #require(try await store.events(jobID: "ftjob-done", after: nil, limit: 10)).items.reversed()
            #expect(signed.map(\.message) == ["created", "working", "cancelled"])
            #expect(signed.map(\.attempt) == [nil, 1, 1] && signed.map(\.replica) == [nil, "r1", "r1"])

            #expect(try await store.pruneEvents(before: unixNow() - 3600) == 0, "nothing is that old")
            #expect(try await store.pruneEvents(before: unixNow() + 10) == 3)
            #expect(try await store.events(jobID: "ftjob-done", after: nil, limit: 10)?.items.isEmpty == true)
            #expect(try await Self.messages(store, "ftjob-live") == ["created", "working"], "a running job keeps its log")

            let outer = try await store.withHousekeepingLock { () -> Bool? in
                // While one replica holds the lock, another's attempt does not run (one process: nobody else).
                try await backend == .postgres ? store.withHousekeepingLock { true } : nil
            }
            #expect(outer == .some(nil) || backend == .sqlite, "\(String(describing: outer))")
        }
    }

    /// A replica paused in the middle of a transaction (SIGSTOP, a long GC pause, a cut network)
    /// keeps its job's row locked, and claims skip locked rows: without a limit on idle
    /// transactions the job was never taken over while the owner stayed paused (the cluster test's
    /// SIGSTOP scenario timed out). The server now ends such a session after the lease's length.
    @Test func aTransactionLeftIdleByAPausedOwnerDoesNotBlockTheTakeover() async throws {
        let url = try await TestPostgres.shared.freshDatabase()
        let store = PostgresStore(url: url, logger: Logger(label: "test"), startTimeout: .seconds(60), idleTransactionSeconds: 1.5)
        try await TestPostgres.withRunning(store) { store in
            _ = try await store.createJob(try Self.job("ftjob-a"), datasets: [], event: .message("created"))
            let owner = try await Self.claim(store, "r1", lease: 0.3)
            let paused = Task {
                try await store.transaction { connection in
                    _ = try await connection.query("SELECT 1 FROM job WHERE id = \(owner.lease.jobID) FOR UPDATE", logger: store.logger).collect()
                    try await Task.sleep(for: .seconds(6))   // "paused" with the row locked, idle in transaction
                    _ = try await connection.query("SELECT 1", logger: store.logger).collect()   // back: the session is gone
                }
            }
            defer { paused.cancel() }
            try await Task.sleep(for: .seconds(3))
            let heir = try await store.claimNextJob(replica: "r2", leaseSeconds: 30)
            #expect(heir?.job.id == "ftjob-a" && heir?.isTakeover == true, "the lapsed lease was taken over while its owner stayed paused")
            // The paused owner, back, is told so instead of waiting forever (postgres-nio never ends a
            // query on a connection the server closed mid-transaction; the store's deadline does).
            await #expect(throws: (any Error).self, "the paused owner's transaction ends in an error") { try await paused.value }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func claimsFollowCreationOrder(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for i in 1...4 { _ = try await store.createJob(try Self.job("ftjob-\(i)"), datasets: [], event: .message("created")) }
            for i in 1...4 { #expect(try await Self.claim(store, "r1").job.id == "ftjob-\(i)") }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func cancelEndsAQueuedJobAndMarksARunningOne(_ backend: StoreBackend) async throws {
        let finished = NIOLockedValueBox<[String]>([])
        try await backend.withStore { store in
            store.jobFinished.withLockedValue { $0 = { job in finished.withLockedValue { $0.append("\(job.id):\(job.status.rawValue)") } } }
            for id in ["ftjob-run", "ftjob-queued"] { _ = try await store.createJob(try Self.job(id), datasets: [], event: .message("created")) }
            let owner = try await Self.claim(store, "r1")
            #expect(owner.job.id == "ftjob-run")
            guard case .cancelled(let cancelled) = try await store.cancelJob("ftjob-queued") else { Issue.record("not cancelled"); return }
            #expect(cancelled.status == .cancelled && cancelled.finishedAt != nil)
            #expect(finished.withLockedValue { $0 } == ["ftjob-queued:cancelled"], "a cancel that ends a job is announced")
            #expect(try await store.claimNextJob(replica: "r2", leaseSeconds: 30) == nil, "a cancelled job is never claimed")

            guard case .requested(let marked) = try await store.cancelJob("ftjob-run") else { Issue.record("not requested"); return }
            #expect(marked.cancelRequested && marked.status == .validatingFiles)
            // The owner learns of it at its next renewal, whichever replica took the cancel.
            #expect(try await store.renewLease(owner.lease, seconds: 30) == .held(cancelRequested: true))
            try await store.finishJob(owner.lease, events: [.message("cancelled")]) { $0.status = .cancelled; $0.finishedAt = unixNow() }
            guard case .finished = try await store.cancelJob("ftjob-run") else { Issue.record("a finished job was cancelled again"); return }
            guard case .notFound = try await store.cancelJob("ftjob-none") else { Issue.record("an unknown job was found"); return }
            #expect(finished.withLockedValue { $0 } == ["ftjob-queued:cancelled", "ftjob-run:cancelled"])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func listingsPageNewestFirstWithCursors(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for i in 1...5 { _ = try await store.createJob(try Self.job("ftjob-\(i)"), datasets: [], event: .message("created \(i)")) }
            var batch = try Self.job("batch-1")
            batch.kind = .batch
            _ = try await store.createJob(batch, datasets: [], event: .message("created"))
            let first = try #require(try await store.jobs(after: nil, limit: 2))
            #expect(first.items.map(\.id) == ["ftjob-5", "ftjob-4"] && first.hasMore)
            let second = try #require(try await store.jobs(after: "ftjob-4", limit: 2))
            #expect(second.items.map(\.id) == ["ftjob-3", "ftjob-2"] && second.hasMore)
            let last = try #require(try await store.jobs(after: "ftjob-2", limit: 2))
            #expect(last.items.map(\.id) == ["ftjob-1"] && !last.hasMore)
            #expect(try await store.jobs(after: "ftjob-none", limit: 2) == nil)
            #expect(try await store.jobs(after: nil, limit: 10, kind: .batch)?.items.map(\.id) == ["batch-1"])
            #expect(try await store.jobs(after: "batch-1", limit: 2) == nil, "a batch is no cursor among tuning jobs")
            #expect(try await store.jobIDs(kind: .batch) == ["batch-1"])
            #expect(try await store.job("batch-1", kind: .tuning) == nil)

            let owner = try await Self.claim(store, "r1")
            #expect(owner.job.id == "ftjob-1")
            for step in 1...3 {
                try await store.updateJob(owner.lease, events: [.metrics("step \(step)", JobEventData(step: step, loss: 1.0 / Double(step)))]) {
                    $0.step = step
                }
            }
            let events = try #require(try await store.events(jobID: "ftjob-1", after: nil, limit: 3))
            #expect(events.items.map(\.message) == ["step 3", "step 2", "step 1"] && events.hasMore)
            let older = try #require(try await store.events(jobID: "ftjob-1", after: events.items[2].id, limit: 3))
            #expect(older.items.map(\.message) == ["created 1"] && !older.hasMore)
            #expect(try await store.events(jobID: "ftjob-2", after: events.items[0].id, limit: 3) == nil, "another job's cursor")
            let data = try JSONDecoder().decode(JobEventData.self, from: Data(try #require(events.items[0].data).utf8))
            #expect(data == JobEventData(step: 3, loss: 1.0 / 3))
            #expect(try await store.job("ftjob-1")?.step == 3)

            for i in 1...3 { try await store.insert(StoreTests.dataset("ds-\(i)")) }
            let datasets = try #require(try await store.datasets(after: nil, limit: 2))
            #expect(datasets.items.map(\.id) == ["ds-3", "ds-2"] && datasets.hasMore)
            #expect(try await store.datasets(after: "ds-2", limit: 2)?.items.map(\.id) == ["ds-1"])
            #expect(try await store.datasets(after: "ds-none", limit: 2) == nil)
            #expect(try await store.datasetIDs() == ["ds-1", "ds-2", "ds-3"])
        }
    }

    /// The heart of running on several replicas: a lease that expires is taken over by the next claim,
    /// and the former owner (paused, cut off) can change nothing afterwards.
    @Test(arguments: StoreBackend.allCases)
    func anExpiredLeaseIsTakenOverAndTheFormerOwnerIsFencedOff(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.createJob(try Self.job("ftjob-a"), datasets: [], event: .message("created"))
            // Long enough for the next three calls on a loaded 2-core machine (2 s was not, once).
            let zombie = try await Self.claim(store, "r1", lease: 4)
            try await store.updateJob(zombie.lease, events: [.message("running")]) { $0.status = .running; $0.epoch = 1 }
            let state = Data("epoch one".utf8)
            try await store.saveCheckpoint(state, epochsDone: 1, lease: zombie.lease, event: .message("checkpoint 1"))
            #expect(try await store.claimNextJob(replica: "r2", leaseSeconds: 30) == nil, "a live lease is not taken")

            // Taken over once the lease has run out (the store's clock decides), not before.
            let claimedAt = ContinuousClock.now
            var taken: JobClaim?
            while taken == nil, ContinuousClock.now - claimedAt < .seconds(20) {
                try await Task.sleep(for: .milliseconds(100))
                taken = try await store.claimNextJob(replica: "r2", leaseSeconds: 30)
            }
            let heir = try #require(taken, "the expired lease was never taken over")
            #expect(heir.job.id == "ftjob-a" && heir.lease.attempt == 2)
            #expect(heir.previousOwner == "r1" && heir.previousStatus == .running && heir.isTakeover)
            #expect(heir.job.lostAttempts == 1 && heir.job.status == .validatingFiles && heir.job.claimedBy == "r2")
            let resumed = try #require(try await store.checkpoint(jobID: "ftjob-a"))
            #expect(resumed.state == state && resumed.epochsDone == 1 && resumed.attempt == 1, "the heir resumes from the last checkpoint")

            // Every write of the former owner is refused and changes nothing.
            let before = try await Self.messages(store, "ftjob-a")
            #expect(try await store.renewLease(zombie.lease, seconds: 30) == .lost)
            await #expect(throws: LeaseLost.self) { try await store.updateJob(zombie.lease, events: [.message("zombie step")]) { $0.step = 99 } }
            await #expect(throws: LeaseLost.self) { try await store.appendEvent(.message("zombie event"), lease: zombie.lease) }
            await #expect(throws: LeaseLost.self) {
                try await store.saveCheckpoint(Data("zombie".utf8), epochsDone: 5, lease: zombie.lease, event: .message("zombie checkpoint"))
            }
            await #expect(throws: LeaseLost.self) {
                try await store.completeJob(zombie.lease, promptSetID: "ps-zombie", files: nil, event: .message("zombie done")) { $0.finishedAt = unixNow() }
            }
            await #expect(throws: LeaseLost.self) { try await store.releaseJob(zombie.lease, event: .message("zombie hand-back")) }
            await #expect(throws: LeaseLost.self) {
                try await store.finishJob(zombie.lease, events: []) { $0.markFailed(JobFailure("x", "zombie")) }
            }
            #expect(try await Self.messages(store, "ftjob-a") == before)
            let job = try #require(try await store.job("ftjob-a"))
            #expect(job.step == 0 && job.status == .validatingFiles && job.claimedBy == "r2" && job.attempt == 2)
            #expect(try await store.checkpoint(jobID: "ftjob-a")?.state == state)

            // The heir's writes go through; completing drops the checkpoint and releases the job.
            #expect(try await store.renewLease(heir.lease, seconds: 30) == .held(cancelRequested: false))
            try await store.saveCheckpoint(Data("epoch two".utf8), epochsDone: 2, lease: heir.lease, event: .message("checkpoint 2"))
            #expect(try await store.checkpoint(jobID: "ftjob-a")?.attempt == 2)
            let done = try await store.completeJob(heir.lease, promptSetID: "ps-a", files: nil, event: .message("succeeded")) { $0.finishedAt = unixNow() }
            #expect(done.status == .succeeded && done.promptSetID == "ps-a" && done.claimedBy == nil)
            #expect(try await store.checkpoint(jobID: "ftjob-a") == nil)
            #expect(try await store.renewLease(heir.lease, seconds: 30) == .lost, "a finished job holds no lease")
            #expect(try await store.claimNextJob(replica: "r3", leaseSeconds: 30) == nil)
            #expect(try await Self.messages(store, "ftjob-a").suffix(2) == ["checkpoint 2", "succeeded"])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func renewingKeepsTheLease(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.createJob(try Self.job("ftjob-a"), datasets: [], event: .message("created"))
            // Renewed every 0.3 s for 3 s, well past the 1.5 s lease it started with.
            let owner = try await Self.claim(store, "r1", lease: 1.5)
            for _ in 0..<10 {
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await store.renewLease(owner.lease, seconds: 1.5) == .held(cancelRequested: false))
                #expect(try await store.claimNextJob(replica: "r2", leaseSeconds: 30) == nil, "a renewed lease is never taken over")
            }
        }
    }

    /// A graceful shutdown hands the job back: another replica claims it at once (no waiting for the
    /// lease), it is not counted as lost, and the checkpoint stays for the next owner.
    @Test(arguments: StoreBackend.allCases)
    func aHandedBackJobIsClaimedAtOnceWithItsCheckpoint(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.createJob(try Self.job("ftjob-a"), datasets: [], event: .message("created"))
            let first = try await Self.claim(store, "r1")
            try await store.updateJob(first.lease, events: []) { $0.status = .running }
            try await store.saveCheckpoint(Data("state".utf8), epochsDone: 3, lease: first.lease, event: .message("checkpoint 3"))
            try await store.releaseJob(first.lease, event: .message("handed back"))
            let released = try #require(try await store.job("ftjob-a"))
            #expect(released.status == .queued && released.claimedBy == nil)
            let next = try await Self.claim(store, "r2")
            #expect(!next.isTakeover && next.lease.attempt == 2 && next.job.lostAttempts == 0)
            #expect(try await store.checkpoint(jobID: "ftjob-a")?.epochsDone == 3)
            #expect(try await store.renewLease(first.lease, seconds: 30) == .lost)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aDatasetInUseIsNotDeleted(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.insert(StoreTests.dataset("ds-a"))
            _ = try await store.createJob(try Self.job("ftjob-a"), datasets: [(param: "dataset", id: "ds-a")], event: .message("created"))
            guard case .inUse(let users) = try await store.deleteDataset("ds-a") else { Issue.record("deleted while in use"); return }
            #expect(users == ["ftjob-a"])
            _ = try await store.cancelJob("ftjob-a")
            guard case .deleted = try await store.deleteDataset("ds-a") else { Issue.record("not deleted"); return }
            guard case .notFound = try await store.deleteDataset("ds-a") else { Issue.record("deleted twice"); return }
            #expect(try await store.dataset("ds-a") == nil)
            #expect(try await store.job("ftjob-a")?.datasetID == "ds-a", "a finished job keeps naming its dataset")
        }
    }

    /// Replicas starting together on an empty database: one applies the migrations, the others wait on
    /// the advisory lock and find nothing to do; all then work.
    @Test func replicasStartingTogetherMigrateOnce() async throws {
        let url = try await TestPostgres.shared.freshDatabase()
        // A generous start: on a loaded 2-core CI machine the migrations once took longer than the default 5 s.
        let stores = (0..<3).map { _ in PostgresStore(url: url, logger: Logger(label: "test"), startTimeout: .seconds(60)) }
        let services = stores.map { store in Task { try await store.run() } }
        defer { services.forEach { $0.cancel() } }
        for store in stores { try await store.opened() }
        let versions = try await stores[0].rows("SELECT version FROM schema_migration ORDER BY version").map { try $0.decode(Int.self) }
        #expect(versions == Array(1...PostgresStore.migrations.count))
        for (i, store) in stores.enumerated() {
            _ = try await store.createJob(try Self.job("ftjob-\(i)"), datasets: [], event: .message("created"))
        }
        #expect(try await stores[2].jobs(after: nil, limit: 10)?.items.count == 3)
    }
}
