import Foundation
import NIOCore
import PostgresNIO

/// Jobs in PostgreSQL: the claim with `FOR UPDATE SKIP LOCKED`, leases timed by the database's
/// clock (replicas' clocks do not matter), and every owner write conditioned on its lease.
extension PostgresStore {
    /// Wake-ups for idle workers: a job was queued (created, or handed back).
    static let jobsChannel = "tagtune_jobs"
    /// Cancels, by job id, for the replica that owns the job.
    static let jobControlChannel = "tagtune_job_control"

    private func insert(_ events: [NewJobEvent], jobID: String, by lease: JobLease? = nil, _ connection: PostgresConnection) async throws {
        for event in events { try await event.record(for: jobID, by: lease).insert(connection, logger: logger) }
    }

    func createJob(_ job: JobRecord, datasets: [(param: String, id: String)], event: NewJobEvent) async throws -> JobCreation {
        let outcome = try await transaction { connection -> JobCreation in
            for (param, id) in datasets {
                // FOR SHARE: a dataset deleted at the same moment waits for this job, then sees it.
                let found = try await connection.query("SELECT 1 FROM dataset WHERE id = \(id) FOR SHARE", logger: self.logger).collect()
                if found.isEmpty { return .missingDataset(param: param, id: id) }
            }
            try await job.insert(connection, logger: self.logger)
            try await self.insert([event], jobID: job.id, connection)
            try await connection.query("SELECT pg_notify(\(Self.jobsChannel), \(job.id))", logger: self.logger)
            let stored = try await connection.query("SELECT to_json(j)::text FROM job j WHERE id = \(job.id)", logger: self.logger).collect()
            return .created(try stored[0].record(JobRecord.self))
        }
        return outcome
    }

    func job(_ id: String) async throws -> JobRecord? {
        try await rows("SELECT to_json(j)::text FROM job j WHERE id = \(id)").first?.record(JobRecord.self)
    }

    func jobs(after: String?, limit: Int, kind: JobKind) async throws -> Page<JobRecord>? {
        var bound = Int64.max
        if let after {
            guard let seq = try await rows("SELECT seq FROM job WHERE id = \(after) AND kind = \(kind.rawValue)").first?.decode(Int64.self)
            else { return nil }
            bound = seq
        }
        let rows = try await rows("""
            SELECT to_json(j)::text FROM job j WHERE kind = \(kind.rawValue) AND seq < \(bound) ORDER BY seq DESC LIMIT \(limit + 1)
            """)
        return Page(fetched: try rows.records(JobRecord.self), limit: limit)
    }

    func jobIDs(kind: JobKind) async throws -> Set<String> {
        Set(try await rows("SELECT id FROM job WHERE kind = \(kind.rawValue)").map { try $0.decode(String.self) })
    }

    func cancelJob(_ id: String) async throws -> JobCancellation {
        let outcome = try await transaction { connection -> JobCancellation in
            let found = try await connection.query("SELECT to_json(j)::text FROM job j WHERE id = \(id) FOR UPDATE", logger: self.logger).collect()
            guard var job = try found.first?.record(JobRecord.self) else { return .notFound }
            if job.status.isFinished { return .finished(job) }
            if job.status == .queued {
                job.status = .cancelled
                job.finishedAt = unixNow()
                job.etaSeconds = nil
                job.cancelRequested = true
                try await self.update(job, connection)
                try await connection.query("DELETE FROM job_checkpoint WHERE job_id = \(id)", logger: self.logger)
                try await self.insert([.message("job cancelled before it started")], jobID: id, connection)
                return .cancelled(job)
            }
            if !job.cancelRequested {
                job.cancelRequested = true
                try await self.update(job, connection)
                try await self.insert([.message("cancellation requested; the job stops at its next step")], jobID: id, connection)
                // The owner, on whichever replica, stops at its next step (its heartbeat reads the flag too).
                try await connection.query("SELECT pg_notify(\(Self.jobControlChannel), \(id))", logger: self.logger)
            }
            return .requested(job)
        }
        if case .cancelled(let job) = outcome { announceFinished(job) }
        return outcome
    }

    /// Writes every column of `job` (a NULL for each absent optional) to its row.
    private func update(_ job: JobRecord, _ connection: PostgresConnection) async throws {
        let columns = JobRecord.columnList
        try await connection.query("""
            UPDATE job SET (\(unescaped: columns)) = (SELECT \(unescaped: columns) FROM json_populate_record(NULL::job, \(try job.json)::json))
            WHERE id = \(job.id)
            """, logger: logger)
    }

    func claimNextJob(replica: String, leaseSeconds: Double) async throws -> JobClaim? {
        // The CTE is materialised so the planner cannot lock (and update) more rows than the LIMIT.
        let rows = try await rows("""
            WITH next AS MATERIALIZED (
              SELECT id, claimed_by AS previous_owner, status AS previous_status FROM job
              WHERE status = 'queued' OR (status IN ('validating_files', 'running') AND lease_expires_at < now())
              ORDER BY seq LIMIT 1
              FOR UPDATE SKIP LOCKED)
            UPDATE job j SET status = 'validating_files', attempt = j.attempt + 1, claimed_by = \(replica),
              lease_expires_at = now() + make_interval(secs => \(leaseSeconds)),
              lost_attempts = j.lost_attempts + CASE WHEN next.previous_status = 'queued' THEN 0 ELSE 1 END,
              started_at = coalesce(j.started_at, \(unixNow()))
            FROM next WHERE j.id = next.id
            RETURNING to_json(j)::text, next.previous_owner, next.previous_status
            """)
        guard let row = rows.first else { return nil }
        let (json, previousOwner, previousStatus) = try row.decode((String, String?, String).self)
        let job = try JobRecord.decode(json: json)
        let takeover = previousStatus != JobStatus.queued.rawValue
        return JobClaim(job: job, lease: JobLease(jobID: job.id, replica: replica, attempt: job.attempt),
                        previousOwner: takeover ? previousOwner : nil, previousStatus: takeover ? JobStatus(rawValue: previousStatus) : nil)
    }

    func renewLease(_ lease: JobLease, seconds: Double) async throws -> LeaseRenewal {
        let rows = try await rows("""
            UPDATE job j SET lease_expires_at = now() + make_interval(secs => \(seconds))
            WHERE j.id = \(lease.jobID) AND j.attempt = \(lease.attempt) AND j.claimed_by = \(lease.replica)
              AND j.status IN ('validating_files', 'running') RETURNING cancel_requested
            """)
        guard let row = rows.first else { return .lost }
        return .held(cancelRequested: try row.decode(Bool.self))
    }

    /// The job row locked for this owner, or `LeaseLost`; in the caller's transaction.
    private func ownedJob(_ lease: JobLease, _ connection: PostgresConnection) async throws -> JobRecord {
        let rows = try await connection.query("""
            SELECT to_json(j)::text FROM job j WHERE j.id = \(lease.jobID) AND j.attempt = \(lease.attempt)
              AND j.claimed_by = \(lease.replica) AND j.status IN ('validating_files', 'running') FOR UPDATE
            """, logger: logger).collect()
        guard let row = rows.first else { throw LeaseLost(lease: lease) }
        return try row.record(JobRecord.self)
    }

    /// Applies `change` to an owned job with `events`; releases the lease when the job ends or goes back to the queue.
    /// `also` runs first in the same transaction, once the lease is known to hold.
    private func changeOwned(_ lease: JobLease, events: [NewJobEvent],
                             also: (@Sendable (PostgresConnection) async throws -> Void)? = nil,
                             _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord {
        let (before, job) = try await transaction { connection -> (JobStatus, JobRecord) in
            var job = try await self.ownedJob(lease, connection)
            try await also?(connection)
            let before = job.status
            change(&job)
            if job.status.isFinished || job.status == .queued { job.claimedBy = nil }
            try await self.update(job, connection)
            if job.claimedBy == nil {
                try await connection.query("UPDATE job SET lease_expires_at = NULL WHERE id = \(job.id)", logger: self.logger)
            }
            if job.status.isFinished {
                try await connection.query("DELETE FROM job_checkpoint WHERE job_id = \(job.id)", logger: self.logger)
            }
            if job.status == .queued {
                // Handed back: wake the idle workers of every replica.
                try await connection.query("SELECT pg_notify(\(Self.jobsChannel), \(job.id))", logger: self.logger)
            }
            try await self.insert(events, jobID: job.id, by: lease, connection)
            return (before, job)
        }
        if before != job.status { announceFinished(job) }
        return job
    }

    func updateJob(_ lease: JobLease, events: [NewJobEvent], _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord {
        try await changeOwned(lease, events: events, change)
    }

    var keepsPromptSets: Bool { true }

    /// The prompt set is stored (a new version when a resumed attempt writes it again) and the job
    /// marked succeeded in one transaction: a fenced-out owner publishes nothing.
    func completeJob(_ lease: JobLease, promptSetID: String, files: PromptSetFiles?, event: NewJobEvent,
                     _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord {
        let logger = logger
        return try await changeOwned(lease, events: [event], also: { connection in
            if let files {
                _ = try await Self.upsert(id: promptSetID, files: files, jobID: lease.jobID, replace: true, connection, logger: logger)
            }
        }, Self.succeeded(promptSetID: promptSetID, change))
    }

    func appendEvent(_ event: NewJobEvent, lease: JobLease) async throws {
        // One statement: the event is inserted only where the lease still holds (FOR SHARE: no claim in between).
        let record = try event.record(for: lease.jobID, by: lease)
        let columns = JobEventRecord.columnList
        let rows = try await rows("""
            WITH owner AS (SELECT j.id AS owner_id FROM job j WHERE j.id = \(lease.jobID) AND j.attempt = \(lease.attempt)
              AND j.claimed_by = \(lease.replica) AND j.status IN ('validating_files', 'running') FOR SHARE)
            INSERT INTO job_event (\(unescaped: columns))
            SELECT \(unescaped: columns) FROM json_populate_record(NULL::job_event, \(try record.json)::json), owner
            RETURNING seq
            """)
        if rows.isEmpty { throw LeaseLost(lease: lease) }
    }

    func saveCheckpoint(_ state: Data, epochsDone: Int, lease: JobLease, event: NewJobEvent) async throws {
        try await transaction { connection in
            _ = try await self.ownedJob(lease, connection)
            try await connection.query("""
                INSERT INTO job_checkpoint (job_id, attempt, epochs_done, state, updated_at)
                VALUES (\(lease.jobID), \(lease.attempt), \(epochsDone), \(ByteBuffer(bytes: state)), \(unixNow()))
                ON CONFLICT (job_id) DO UPDATE SET attempt = excluded.attempt, epochs_done = excluded.epochs_done,
                  state = excluded.state, updated_at = excluded.updated_at
                """, logger: self.logger)
            try await self.insert([event], jobID: lease.jobID, by: lease, connection)
        }
    }

    func checkpoint(jobID: String) async throws -> StoredCheckpoint? {
        guard let row = try await rows("SELECT state, epochs_done, attempt FROM job_checkpoint WHERE job_id = \(jobID)").first
        else { return nil }
        let (state, epochsDone, attempt) = try row.decode((ByteBuffer, Int, Int).self)
        return StoredCheckpoint(state: Data(state.readableBytesView), epochsDone: epochsDone, attempt: attempt)
    }

    // MARK: Events

    func events(jobID: String, after: String?, limit: Int) async throws -> Page<JobEventRecord>? {
        var bound = Int64.max
        if let after {
            guard let seq = try await rows("SELECT seq FROM job_event WHERE id = \(after) AND job_id = \(jobID)").first?.decode(Int64.self)
            else { return nil }
            bound = seq
        }
        let rows = try await rows("""
            SELECT to_json(e)::text FROM job_event e WHERE job_id = \(jobID) AND seq < \(bound) ORDER BY seq DESC LIMIT \(limit + 1)
            """)
        return Page(fetched: try rows.records(JobEventRecord.self), limit: limit)
    }

    func appendEvent(_ event: NewJobEvent, jobID: String) async throws {
        try await transaction { connection in try await self.insert([event], jobID: jobID, connection) }
    }
}
