import GRDB

extension SQLiteStore {
    func insert(_ dataset: DatasetRecord) async throws {
        try await pool.write { try dataset.insert($0) }
    }

    func dataset(_ id: String) async throws -> DatasetRecord? {
        try await pool.read { try DatasetRecord.fetchOne($0, key: id) }
    }

    func datasetIDs() async throws -> Set<String> { try datasetIDsNow() }

    func datasetBlobs() async throws -> Set<String> {
        try await pool.read { Set(try String.fetchAll($0, sql: "SELECT blob_sha256 FROM dataset WHERE blob_sha256 IS NOT NULL")) }
    }

    /// One process: nobody else does housekeeping.
    func withHousekeepingLock<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T? { try await body() }

    func pruneEvents(before cutoff: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: """
                DELETE FROM job_event WHERE created_at < ?
                  AND job_id IN (SELECT id FROM job WHERE status IN ('succeeded', 'failed', 'cancelled'))
                """, arguments: [cutoff])
            return db.changesCount
        }
    }

    func datasetIDsNow() throws -> Set<String> {
        try pool.read { Set(try String.fetchAll($0, sql: "SELECT id FROM dataset")) }
    }

    func datasets(after: String?, limit: Int) async throws -> Page<DatasetRecord>? {
        try await pool.read { db in
            var bound = Int64.max
            if let after {
                guard let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM dataset WHERE id = ?", arguments: [after])
                else { return nil }
                bound = rowid
            }
            let rows = try DatasetRecord.fetchAll(
                db, sql: "SELECT * FROM dataset WHERE rowid < ? ORDER BY rowid DESC LIMIT ?", arguments: [bound, limit + 1])
            return Page(fetched: rows, limit: limit)
        }
    }

    /// The check and the delete are one transaction, so a job created at the same moment either
    /// sees the dataset or is refused.
    func deleteDataset(_ id: String) async throws -> DatasetDeletion {
        try await pool.write { db in
            guard try DatasetRecord.exists(db, key: id) else { return .notFound }
            let users = try String.fetchAll(db, sql: """
                SELECT id FROM job WHERE (dataset_id = ? OR validation_dataset_id = ?)
                AND status IN ('validating_files', 'queued', 'running') ORDER BY seq
                """, arguments: [id, id])
            if !users.isEmpty { return .inUse(jobIDs: users) }
            _ = try DatasetRecord.deleteOne(db, key: id)
            return .deleted
        }
    }
}
