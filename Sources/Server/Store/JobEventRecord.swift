import GRDB

/// A row of `job_event`: one line of a job's log, a message or a metrics record.
struct JobEventRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "job_event"

    var seq: Int64?
    var id: String
    var jobID: String
    var createdAt: Int64
    var level: String
    var type: String
    var message: String
    /// A JSON object (epoch, step, loss, validation mAP…) for metrics rows.
    var data: String?
    /// The owner attempt (fencing token) and replica that wrote it; nil for events the API wrote.
    var attempt: Int? = nil
    var replica: String? = nil

    enum CodingKeys: String, CodingKey, CaseIterable {
        case seq, id, level, type, message, data, attempt, replica
        case jobID = "job_id"
        case createdAt = "created_at"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }
}
