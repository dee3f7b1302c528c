import GRDB

/// A row of `dataset`: an accepted upload. Its validated zip is a blob (`blobSHA256`), unpacked on
/// each replica into a local cache; rows from before the blob store name a folder `DataLayout.dataset(id)`.
struct DatasetRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "dataset"

    var id: String
    var name: String
    var createdAt: Int64
    var imageCount: Int
    var classCount: Int
    /// `DatasetSummary` as JSON: per-class counts, groups, warnings.
    var summary: String
    /// SHA-256 (hex) and size of the validated zip in the blob store; nil for an older unpacked folder.
    var blobSHA256: String? = nil
    var blobBytes: Int64? = nil

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, summary
        case createdAt = "created_at"
        case imageCount = "image_count"
        case classCount = "class_count"
        case blobSHA256 = "blob_sha256"
        case blobBytes = "blob_bytes"
    }
}
