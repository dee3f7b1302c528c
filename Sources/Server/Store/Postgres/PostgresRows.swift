import Foundation
import PostgresNIO

/// A record stored as one row: its table and columns (its coding keys, `seq` being the database's).
protocol StoredRow: Codable, Sendable {
    static var table: String { get }
    static var columns: [String] { get }
}

extension JobRecord: StoredRow {
    static let table = "job"
    static let columns = CodingKeys.allCases.map(\.stringValue).filter { $0 != "seq" }
}

extension DatasetRecord: StoredRow {
    static let table = "dataset"
    static let columns = CodingKeys.allCases.map(\.stringValue)
}

extension JobEventRecord: StoredRow {
    static let table = "job_event"
    static let columns = CodingKeys.allCases.map(\.stringValue).filter { $0 != "seq" }
}

extension StoredRow {
    static var columnList: String { columns.joined(separator: ", ") }

    /// `SELECT … to_json(alias)::text …` of a row, decoded; extra columns (leases) are ignored.
    static func decode(json: String) throws -> Self {
        try JSONDecoder().decode(Self.self, from: Data(json.utf8))
    }

    var json: String {
        get throws { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    }

    /// Inserts the record; absent optional fields are NULL.
    func insert(_ connection: PostgresConnection, logger: Logger) async throws {
        let columns = Self.columnList
        try await connection.query("""
            INSERT INTO \(unescaped: Self.table) (\(unescaped: columns))
            SELECT \(unescaped: columns) FROM json_populate_record(NULL::\(unescaped: Self.table), \(try json)::json)
            """, logger: logger)
    }
}

extension PostgresRow {
    /// The first column, a row as `to_json(…)::text`, decoded as `R`.
    func record<R: StoredRow>(_ type: R.Type) throws -> R {
        try R.decode(json: try decode(String.self))
    }
}

extension Sequence where Element == PostgresRow {
    func records<R: StoredRow>(_ type: R.Type) throws -> [R] { try map { try $0.record(type) } }
}
