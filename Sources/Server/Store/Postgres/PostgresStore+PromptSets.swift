import Foundation
import NIOCore
import PostgresNIO

/// Prompt sets and default choices in PostgreSQL, for every replica: both files as `bytea`, a
/// version raised by every change, and the manifest's SHA-256 for compare-and-swap edits. Every
/// change is announced on `tagtune_prompt_sets` (delivered at commit) so replicas sync at once.
extension PostgresStore: PromptSetCatalog {
    static let promptSetsChannel = "tagtune_prompt_sets"

    func promptSetVersions() async throws -> [String: PromptSetVersion] {
        var versions: [String: PromptSetVersion] = [:]
        for row in try await rows("SELECT id, version, manifest_sha256, tensors_sha256 FROM prompt_set") {
            let (id, version, manifest, tensors) = try row.decode((String, Int, String, String).self)
            versions[id] = PromptSetVersion(version: version, manifestSHA256: manifest, tensorsSHA256: tensors)
        }
        return versions
    }

    func promptSet(id: String) async throws -> (version: PromptSetVersion, files: PromptSetFiles)? {
        guard let row = try await rows("""
            SELECT version, manifest_sha256, tensors_sha256, manifest, tensors FROM prompt_set WHERE id = \(id)
            """).first else { return nil }
        let (version, manifestSHA, tensorsSHA, manifest, tensors) = try row.decode((Int, String, String, ByteBuffer, ByteBuffer).self)
        return (PromptSetVersion(version: version, manifestSHA256: manifestSHA, tensorsSHA256: tensorsSHA),
                PromptSetFiles(manifest: Data(manifest.readableBytesView), tensors: Data(tensors.readableBytesView)))
    }

    func publishIfAbsent(id: String, files: PromptSetFiles) async throws -> Bool {
        try await transaction { connection in
            try await Self.upsert(id: id, files: files, jobID: nil, replace: false, connection, logger: self.logger)
        }
    }

    func replaceManifest(id: String, with manifest: Data, expected: String) async throws -> ManifestReplacement {
        try await transaction { connection in
            let found = try await connection.query("SELECT manifest_sha256 FROM prompt_set WHERE id = \(id) FOR UPDATE",
                                                   logger: self.logger).collect()
            guard let current = try found.first?.decode(String.self) else { return .notFound }
            guard current == expected else { return .stale(current: current) }
            let digest = PromptSetFiles.sha256(manifest)
            let rows = try await connection.query("""
                UPDATE prompt_set SET manifest = \(ByteBuffer(bytes: manifest)), manifest_sha256 = \(digest),
                  version = version + 1, updated_at = \(unixNow())
                WHERE id = \(id) RETURNING version, tensors_sha256
                """, logger: self.logger).collect()
            let (version, tensors) = try rows[0].decode((Int, String).self)
            try await Self.announce(id, connection, logger: self.logger)
            return .replaced(PromptSetVersion(version: version, manifestSHA256: digest, tensorsSHA256: tensors))
        }
    }

    func modelDefaults() async throws -> [String: String] {
        var defaults: [String: String] = [:]
        for row in try await rows("SELECT model, prompt_set_id FROM model_default") {
            let (model, id) = try row.decode((String, String).self)
            defaults[model] = id
        }
        return defaults
    }

    func setModelDefault(model: String, promptSetID: String) async throws {
        try await transaction { connection in
            try await connection.query("""
                INSERT INTO model_default (model, prompt_set_id, updated_at) VALUES (\(model), \(promptSetID), \(unixNow()))
                ON CONFLICT (model) DO UPDATE SET prompt_set_id = excluded.prompt_set_id, updated_at = excluded.updated_at
                """, logger: self.logger)
            try await Self.announce(promptSetID, connection, logger: self.logger)
        }
    }

    /// Inserts (or with `replace`, overwrites as a new version) a prompt set in the caller's
    /// transaction and announces it; false when it existed and was left alone.
    static func upsert(id: String, files: PromptSetFiles, jobID: String?, replace: Bool, _ connection: PostgresConnection,
                       logger: Logger) async throws -> Bool {
        let now = unixNow()
        let (manifestSHA, tensorsSHA) = (files.manifestSHA256, files.tensorsSHA256)
        let conflict = replace ? """
            DO UPDATE SET manifest = excluded.manifest, manifest_sha256 = excluded.manifest_sha256, tensors = excluded.tensors,
              tensors_sha256 = excluded.tensors_sha256, job_id = excluded.job_id, version = prompt_set.version + 1,
              updated_at = excluded.updated_at
            """ : "DO NOTHING"
        let rows = try await connection.query("""
            INSERT INTO prompt_set (id, version, job_id, manifest, manifest_sha256, tensors, tensors_sha256, created_at, updated_at)
            VALUES (\(id), 1, \(jobID), \(ByteBuffer(bytes: files.manifest)), \(manifestSHA), \(ByteBuffer(bytes: files.tensors)),
              \(tensorsSHA), \(now), \(now))
            ON CONFLICT (id) \(unescaped: conflict) RETURNING version
            """, logger: logger).collect()
        if rows.isEmpty { return false }
        try await announce(id, connection, logger: logger)
        return true
    }

    static func announce(_ id: String, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_notify(\(promptSetsChannel), \(id))", logger: logger)
    }
}
