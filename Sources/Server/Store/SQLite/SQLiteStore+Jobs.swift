import Foundation
import GRDB

/// Jobs in SQLite: the queue, leases and fenced writes. One writer at a time (SQLite's lock), so a
/// claim is a plain read-then-update in one transaction; the lease conditions are the same as
/// PostgreSQL's, so both keep one contract.
extension SQLiteStore {
    func createJob(_ job: JobRecord, datasets: [(param: String, id: String)], event: NewJobEvent) async throws -> JobCreation {
        let outcome = try await pool.write { db -> JobCreation in
            for (param, id) in datasets where try !DatasetRecord.exists(db, key: id) {
                return .missingDataset(param: param, id: id)
            }
            var job = job
            try job.insert(db)
            try event.insert(for: job.id, db)
            return .created(job)
        }
        if case .created = outcome { try publishJobStatusCounts() }
        return outcome
    }

    func job(_ id: String) async throws -> JobRecord? {
        try await pool.read { try JobRecord.filter(Column("id") == id).fetchOne($0) }
    }

    func jobs(after: String?, limit: Int, kind: JobKind) async throws -> Page<JobRecord>? {
        try await pool.read { db in
            var bound = Int64.max
            if let after {
                guard let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM job WHERE id = ? AND kind = ?", arguments: [after, kind])
                else { return nil }
                bound = seq
            }
            let rows = try JobRecord.fetchAll(
                db, sql: "SELECT * FROM job WHERE kind = ? AND seq < ? ORDER BY seq DESC LIMIT ?", arguments: [kind, bound, limit + 1])
            return Page(fetched: rows, limit: limit)
        }
    }

    func jobIDs(kind: JobKind) async throws -> Set<String> {
        try await pool.read { try String.fetchSet($0, sql: "SELECT id FROM job WHERE kind = ?", arguments: [kind]) }
    }

    func cancelJob(_ id: String) async throws -> JobCancellation {
        let outcome = try await pool.write { db -> JobCancellation in
            guard var job = try JobRecord.filter(Column("id") == id).fetchOne(db) else { return .notFound }
            if job.status.isFinished { return .finished(job) }
            if job.status == .queued {
                job.status = .cancelled
                job.finishedAt = unixNow()
                job.etaSeconds = nil
                job.cancelRequested = true
                try job.update(db)
                try db.execute(sql: "DELETE FROM job_checkpoint WHERE job_id = ?", arguments: [id])
                try NewJobEvent.message("job cancelled before it started").insert(for: id, db)
                return .cancelled(job)
            }
            if !job.cancelRequested {
                job.cancelRequested = true
                try job.update(db)
                try NewJobEvent.message("cancellation requested; the job stops at its next step").insert(for: id, db)
            }
            return .requested(job)
        }
        if case .cancelled(let job) = outcome {
            try publishJobStatusCounts()
            announceFinished(job)
        }
        return outcome
    }

    func claimNextJob(replica: String, leaseSeconds: Double) async throws -> JobClaim? {
        let claim = try await pool.write { db -> JobClaim? in
            let now = Date().timeIntervalSince1970
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, status, claimed_by FROM job
                WHERE status = 'queued' OR (status IN ('validating_files', 'running') AND lease_expires_at < ?)
                ORDER BY seq LIMIT 1
                """, arguments: [now])
            else { return nil }
            let id: String = row["id"]
            let previousStatus: JobStatus = row["status"]
            let previousOwner: String? = row["claimed_by"]
            let takeover = previousStatus != .queued
            try db.execute(sql: """
                UPDATE job SET status = 'validating_files', attempt = attempt + 1, claimed_by = ?, lease_expires_at = ?,
                  lost_attempts = lost_attempts + ?, started_at = coalesce(started_at, ?)
                WHERE id = ?
                """, arguments: [replica, now + leaseSeconds, takeover ? 1 : 0, unixNow(), id])
            let job = try JobRecord.filter(Column("id") == id).fetchOne(db)!
            return JobClaim(job: job, lease: JobLease(jobID: id, replica: replica, attempt: job.attempt),
                            previousOwner: takeover ? previousOwner : nil, previousStatus: takeover ? previousStatus : nil)
        }
        if claim != nil { try publishJobStatusCounts() }
        return claim
    }

    func renewLease(_ lease: JobLease, seconds: Double) async throws -> LeaseRenewal {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE job SET lease_expires_at = ? WHERE id = ? AND attempt = ? AND claimed_by = ?
                  AND status IN ('validating_files', 'running')
                """, arguments: [Date().timeIntervalSince1970 + seconds, lease.jobID, lease.attempt, lease.replica])
            guard db.changesCount == 1 else { return .lost }
            let cancel = try Bool.fetchOne(db, sql: "SELECT cancel_requested FROM job WHERE id = ?", arguments: [lease.jobID]) ?? false
            return .held(cancelRequested: cancel)
        }
    }

    /// The job row, when `lease` still holds it; in the caller's transaction.
    private static func ownedJob(_ lease: JobLease, _ db: Database) throws -> JobRecord {
        guard let job = try JobRecord.fetchOne(db, sql: """
            SELECT * FROM job WHERE id = ? AND attempt = ? AND claimed_by = ? AND status IN ('validating_files', 'running')
            """, arguments: [lease.jobID, lease.attempt, lease.replica])
        else { throw LeaseLost(lease: lease) }
        return job
    }

    /// Applies `change` to an owned job with `events`, releasing the lease when the job ends or goes back to the queue.
    private func changeOwned(_ lease: JobLease, events: [NewJobEvent],
                             _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord {
        let (before, job) = try await pool.write { db -> (JobStatus, JobRecord) in
            var job = try Self.ownedJob(lease, db)
            let before = job.status
            change(&job)
            if job.status.isFinished || job.status == .queued { job.claimedBy = nil }
            try job.update(db)
            if job.claimedBy == nil { try db.execute(sql: "UPDATE job SET lease_expires_at = NULL WHERE id = ?", arguments: [job.id]) }
            if job.status.isFinished {
                try db.execute(sql: "DELETE FROM job_checkpoint WHERE job_id = ?", arguments: [job.id])
            }
            for event in events { try event.insert(for: job.id, by: lease, db) }
            return (before, job)
        }
        if before != job.status {
            try publishJobStatusCounts()
            announceFinished(job)
        }
        return job
    }

    func updateJob(_ lease: JobLease, events: [NewJobEvent], _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord {
        try await changeOwned(lease, events: events, change)
    }

    var keepsPromptSets: Bool { false }

    /// One machine: the prompt set is already in its folder (the folder is the record).
    func completeJob(_ lease: JobLease, promptSetID: String, files: PromptSetFiles?, event: NewJobEvent,
                     _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord {
        try await changeOwned(lease, events: [event], Self.succeeded(promptSetID: promptSetID, change))
    }

    func appendEvent(_ event: NewJobEvent, lease: JobLease) async throws {
        try await pool.write { db in
            _ = try Self.ownedJob(lease, db)
            try event.insert(for: lease.jobID, by: lease, db)
        }
    }

    func saveCheckpoint(_ state: Data, epochsDone: Int, lease: JobLease, event: NewJobEvent) async throws {
        try await pool.write { db in
            _ = try Self.ownedJob(lease, db)
            try db.execute(sql: """
                INSERT INTO job_checkpoint (job_id, attempt, epochs_done, state, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (job_id) DO UPDATE SET attempt = excluded.attempt, epochs_done = excluded.epochs_done,
                  state = excluded.state, updated_at = excluded.updated_at
                """, arguments: [lease.jobID, lease.attempt, epochsDone, state, unixNow()])
            try event.insert(for: lease.jobID, by: lease, db)
        }
    }

    func checkpoint(jobID: String) async throws -> StoredCheckpoint? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT state, epochs_done, attempt FROM job_checkpoint WHERE job_id = ?", arguments: [jobID])
                .map { StoredCheckpoint(state: $0["state"], epochsDone: $0["epochs_done"], attempt: $0["attempt"]) }
        }
    }

    // MARK: Start-up, synchronous (before the server serves)

    func unfinishedJobsNow() throws -> [JobRecord] {
        try pool.read {
            try JobRecord.fetchAll($0, sql: "SELECT * FROM job WHERE status IN ('validating_files', 'queued', 'running') ORDER BY seq")
        }
    }

    /// Changes a job without a lease, releasing it when it ends or is queued again.
    @discardableResult
    func updateJobNow(_ id: String, events: [NewJobEvent] = [], _ change: (inout JobRecord) -> Void) throws -> JobRecord {
        let (before, after) = try pool.write { db -> (JobStatus, JobRecord) in
            guard var job = try JobRecord.filter(Column("id") == id).fetchOne(db) else {
                throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "no job \(id)")
            }
            let status = job.status
            change(&job)
            if job.status.isFinished || job.status == .queued { job.claimedBy = nil }
            try job.update(db)
            if job.claimedBy == nil { try db.execute(sql: "UPDATE job SET lease_expires_at = NULL WHERE id = ?", arguments: [id]) }
            if job.status.isFinished { try db.execute(sql: "DELETE FROM job_checkpoint WHERE job_id = ?", arguments: [id]) }
            for event in events { try event.insert(for: id, db) }
            return (status, job)
        }
        if before != after.status {
            try publishJobStatusCounts()
            if !before.isFinished { announceFinished(after) }
        }
        return after
    }

    /// The epochs of the job's stored checkpoint, if it has one.
    func checkpointEpochsNow(jobID: String) throws -> Int? {
        try pool.read { try Int.fetchOne($0, sql: "SELECT epochs_done FROM job_checkpoint WHERE job_id = ?", arguments: [jobID]) }
    }

    /// Stores a checkpoint found where servers before v4 wrote them, unless the store has one.
    func importCheckpointNow(jobID: String, state: Data, epochsDone: Int, attempt: Int) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO job_checkpoint (job_id, attempt, epochs_done, state, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (job_id) DO NOTHING
                """, arguments: [jobID, attempt, epochsDone, state, unixNow()])
        }
    }

    /// Jobs in each status, per kind: the job gauges.
    private static func jobCounts(_ db: Database) throws -> JobCounts {
        var counts = JobCounts()
        for row in try Row.fetchAll(db, sql: JobCounts.query) {
            counts.add(kind: row[0], status: row[1], count: row[2])
        }
        return counts
    }

    /// Counts and publishes on the writer's serial queue, so concurrent changes publish in commit
    /// order: a count read on a reader could be older than one already published and overwrite it.
    func publishJobStatusCounts() throws {
        try pool.writeWithoutTransaction { db in jobStatusCounts(try Self.jobCounts(db)) }
    }
}
