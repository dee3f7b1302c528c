import GRDB

extension TuningDatabase {
    func promptSet(_ id: String) async throws -> PromptSetRecord? {
        try await pool.read { try PromptSetRecord.fetchOne($0, key: id) }
    }

    func promptSets() async throws -> [PromptSetRecord] {
        try await pool.read { try PromptSetRecord.fetchAll($0, sql: "SELECT * FROM prompt_set ORDER BY created_at, id") }
    }
}
