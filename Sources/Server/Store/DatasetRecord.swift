import GRDB

/// A row of `dataset`: an accepted upload, whose files are under `DataLayout.dataset(id)`.
struct DatasetRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "dataset"

    var id: String
    var name: String
    var createdAt: Int64
    var imageCount: Int
    var classCount: Int
    /// `DatasetSummary` as JSON: per-class counts, groups, warnings.
    var summary: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, summary
        case createdAt = "created_at"
        case imageCount = "image_count"
        case classCount = "class_count"
    }
}
