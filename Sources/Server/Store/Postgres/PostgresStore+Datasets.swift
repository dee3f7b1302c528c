import PostgresNIO

extension PostgresStore {
    func insert(_ dataset: DatasetRecord) async throws {
        try await transaction { connection in try await dataset.insert(connection, logger: self.logger) }
    }

    func dataset(_ id: String) async throws -> DatasetRecord? {
        try await rows("SELECT to_json(d)::text FROM dataset d WHERE id = \(id)").first?.record(DatasetRecord.self)
    }

    func datasetIDs() async throws -> Set<String> {
        Set(try await rows("SELECT id FROM dataset").map { try $0.decode(String.self) })
    }

    func datasetBlobs() async throws -> Set<String> {
        Set(try await rows("SELECT blob_sha256 FROM dataset WHERE blob_sha256 IS NOT NULL").map { try $0.decode(String.self) })
    }

    /// Any number for the try-lock that makes one replica at a time the housekeeper.
    static let housekeepingLock: Int64 = 0x7461_6774_756e_6502

    func withHousekeepingLock<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await transaction { connection in
            let rows = try await connection.query("SELECT pg_try_advisory_xact_lock(\(Self.housekeepingLock))", logger: self.logger).collect()
            guard try rows.first?.decode(Bool.self) == true else { return nil }
            return try await body()
        }
    }

    func pruneEvents(before cutoff: Int64) async throws -> Int {
        try await rows("""
            WITH gone AS (DELETE FROM job_event WHERE created_at < \(cutoff)
              AND job_id IN (SELECT id FROM job WHERE status IN ('succeeded', 'failed', 'cancelled')) RETURNING 1)
            SELECT count(*) FROM gone
            """).first?.decode(Int.self) ?? 0
    }

    func datasets(after: String?, limit: Int) async throws -> Page<DatasetRecord>? {
        var bound = Int64.max
        if let after {
            guard let seq = try await rows("SELECT seq FROM dataset WHERE id = \(after)").first?.decode(Int64.self) else { return nil }
            bound = seq
        }
        let rows = try await rows("SELECT to_json(d)::text FROM dataset d WHERE seq < \(bound) ORDER BY seq DESC LIMIT \(limit + 1)")
        return Page(fetched: try rows.records(DatasetRecord.self), limit: limit)
    }

    /// The row is locked first: a job created at the same moment (which takes it FOR SHARE) either
    /// committed before, and is seen here, or waits and then finds no dataset.
    func deleteDataset(_ id: String) async throws -> DatasetDeletion {
        try await transaction { connection in
            let found = try await connection.query("SELECT 1 FROM dataset WHERE id = \(id) FOR UPDATE", logger: self.logger).collect()
            guard !found.isEmpty else { return .notFound }
            let users = try await connection.query("""
                SELECT id FROM job WHERE (dataset_id = \(id) OR validation_dataset_id = \(id))
                AND status IN ('validating_files', 'queued', 'running') ORDER BY seq
                """, logger: self.logger).collect().map { try $0.decode(String.self) }
            if !users.isEmpty { return .inUse(jobIDs: users) }
            try await connection.query("DELETE FROM dataset WHERE id = \(id)", logger: self.logger)
            return .deleted
        }
    }
}
