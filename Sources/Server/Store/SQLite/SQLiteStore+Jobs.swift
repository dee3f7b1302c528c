import GRDB

/// What became of a request to create a job.
enum JobCreation: Sendable {
    case created(JobRecord)
    /// A dataset it names does not exist (`param`: the request field naming it).
    case missingDataset(param: String, id: String)
}

/// What became of a request to cancel a job.
enum JobCancellation: Sendable {
    case notFound
    /// Already succeeded, failed or cancelled: nothing to cancel.
    case finished(JobRecord)
    /// Was queued: cancelled at once.
    case cancelled(JobRecord)
    /// Is running: it stops at its next step.
    case requested(JobRecord)
}

extension TuningDatabase {
    /// Inserts a queued job with its first event, after checking (in the same transaction) that its datasets exist.
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

    /// A job of one kind (a batch id never answers as a tuning job, nor the reverse).
    func job(_ id: String, kind: JobKind) async throws -> JobRecord? {
        try await job(id).flatMap { $0.kind == kind ? $0 : nil }
    }

    /// Jobs of `kind` newest first, those created before `after`; nil when `after` names no such job.
    func jobs(after: String?, limit: Int, kind: JobKind = .tuning) async throws -> Page<JobRecord>? {
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

    /// Cancels a queued job at once; marks a running one for cancellation at its next step.
    func cancelJob(_ id: String) async throws -> JobCancellation {
        let outcome = try await pool.write { db -> JobCancellation in
            guard var job = try JobRecord.filter(Column("id") == id).fetchOne(db) else { return .notFound }
            if job.status.isFinished { return .finished(job) }
            if job.status == .queued {
                job.status = .cancelled
                job.finishedAt = unixNow()
                job.etaSeconds = nil
                try job.update(db)
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

    /// Tells the listener (the webhooks) that `job` has finished.
    func announceFinished(_ job: JobRecord) {
        if job.status.isFinished, let listener = jobFinished.withLockedValue({ $0 }) { listener(job) }
    }

    /// Takes the oldest queued job for a worker, marking it `validating_files` (one transaction,
    /// so two workers never take the same job).
    func claimNextQueuedJob() throws -> JobRecord? {
        let claimed = try pool.write { db -> JobRecord? in
            guard var job = try JobRecord.fetchOne(db, sql: "SELECT * FROM job WHERE status = 'queued' ORDER BY seq LIMIT 1")
            else { return nil }
            job.status = .validatingFiles
            job.startedAt = job.startedAt ?? unixNow()
            try job.update(db)
            try NewJobEvent.message("validating files: loading the dataset and the encoder").insert(for: job.id, db)
            return job
        }
        if claimed != nil { try publishJobStatusCounts() }
        return claimed
    }

    /// Changes a job and appends events in one transaction; returns the job as stored.
    @discardableResult
    func updateJob(_ id: String, events: [NewJobEvent] = [], _ change: (inout JobRecord) -> Void) throws -> JobRecord {
        let (before, after) = try pool.write { db -> (JobStatus, JobRecord) in
            guard var job = try JobRecord.filter(Column("id") == id).fetchOne(db) else {
                throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "no job \(id)")
            }
            let status = job.status
            change(&job)
            try job.update(db)
            for event in events { try event.insert(for: id, db) }
            return (status, job)
        }
        if before != after.status {
            try publishJobStatusCounts()
            if !before.isFinished { announceFinished(after) }
        }
        return after
    }

    /// Marks a job succeeded with the prompt set it wrote.
    @discardableResult
    func completeJob(_ id: String, promptSetID: String, event: NewJobEvent,
                     _ change: @escaping (inout JobRecord) -> Void) throws -> JobRecord {
        let job = try pool.write { db -> JobRecord in
            guard var job = try JobRecord.filter(Column("id") == id).fetchOne(db) else {
                throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "no job \(id)")
            }
            change(&job)
            job.status = .succeeded
            job.promptSetID = promptSetID
            try job.update(db)
            try event.insert(for: id, db)
            return job
        }
        try publishJobStatusCounts()
        announceFinished(job)
        return job
    }

    /// Jobs that were not finished when the server stopped, oldest first.
    func unfinishedJobs() throws -> [JobRecord] {
        try pool.read {
            try JobRecord.fetchAll($0, sql: "SELECT * FROM job WHERE status IN ('validating_files', 'queued', 'running') ORDER BY seq")
        }
    }

    /// Tuning jobs in each status, every status present (zero when none): the `tagtune_tuning_jobs` gauge.
    private static func jobCountsByStatus(_ db: Database) throws -> [JobStatus: Int] {
        var counts = Dictionary(uniqueKeysWithValues: JobStatus.allCases.map { ($0, 0) })
        for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM job WHERE kind = 'tuning' GROUP BY status") {
            if let status = JobStatus(rawValue: row["status"]) { counts[status] = row["n"] }
        }
        return counts
    }

    /// Counts and publishes on the writer's serial queue, so concurrent changes publish in commit
    /// order: a count read on a reader could be older than one already published and overwrite it.
    func publishJobStatusCounts() throws {
        try pool.writeWithoutTransaction { db in jobStatusCounts(try Self.jobCountsByStatus(db)) }
    }
}
