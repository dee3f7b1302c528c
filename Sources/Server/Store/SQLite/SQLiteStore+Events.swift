import GRDB

extension SQLiteStore {
    func appendEvent(_ event: NewJobEvent, jobID: String) async throws {
        try await pool.write { try event.insert(for: jobID, $0) }
    }

    func events(jobID: String, after: String?, limit: Int) async throws -> Page<JobEventRecord>? {
        try await pool.read { db in
            var bound = Int64.max
            if let after {
                guard let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM job_event WHERE id = ? AND job_id = ?",
                                                   arguments: [after, jobID])
                else { return nil }
                bound = seq
            }
            let rows = try JobEventRecord.fetchAll(
                db, sql: "SELECT * FROM job_event WHERE job_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                arguments: [jobID, bound, limit + 1])
            return Page(fetched: rows, limit: limit)
        }
    }
}
