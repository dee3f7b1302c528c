import Foundation
import Imaging
import Tuning

/// Turns an uploaded zip into an accepted dataset, all or nothing: the zip is validated whole
/// (`DatasetLoader`: safe entry paths, no links, size and compression-ratio limits, every image
/// decodable, every label in `classes.txt`), stored in the blob store by its SHA-256 (shared by the
/// replicas), unpacked into this replica's cache, and then recorded in the store. A crash part-way
/// leaves a blob without a row (the housekeeping sweep removes it) or a staging folder (removed at start-up).
struct DatasetImporter: Sendable {
    let database: any TuningStore
    let blobs: any BlobStore
    let cache: DatasetCache
    let options: DatasetLoadOptions

    init(database: any TuningStore, blobs: any BlobStore, cache: DatasetCache, configuration: ServerConfiguration) {
        self.database = database
        self.blobs = blobs
        self.cache = cache
        options = DatasetLoadOptions(
            decodesImages: true,
            decodeLimits: DecodeLimits(maxEncodedBytes: DecodeLimits.default.maxEncodedBytes,
                                       maxPixelCount: configuration.limits.maxImagePixels),
            maximumClasses: Self.maximumClasses,
            zipLimits: ZipLimits(maximumEntryCount: ZipLimits.default.maximumEntryCount,
                                 maximumTotalUncompressedBytes: UInt64(configuration.datasetMaxInflatedBytes),
                                 maximumCompressionRatio: ZipLimits.default.maximumCompressionRatio))
    }

    /// Classes in one uploaded dataset: the object (each class's count and group) is served whole
    /// on `GET /v1/datasets/{id}`, and a job tunes a prompt per class.
    static let maximumClasses = 1000

    /// Validates `zip` and, unless `cancelled` is set by then, stores it as dataset `name`.
    /// Throws `DatasetValidationError` for anything wrong with the upload. Blocking: run it offloaded.
    func importZip(_ zip: URL, name: String, cancelled: CancellationFlag) throws -> DatasetRecord {
        let dataset: Dataset
        do {
            dataset = try DatasetLoader.load(from: zip, options: options, isCancelled: { cancelled.isSet })
        } catch TuningError.cancelled {
            throw CancellationError()   // the client gave up while its images were being checked
        }
        if cancelled.isSet { throw CancellationError() }
        let blob = try blobs.put(zip)
        try cache.store(dataset, sha256: blob.sha256, cancelled: cancelled)
        let summary = dataset.summary()
        let record = DatasetRecord(
            id: ResourceID.make("ds-"), name: name, createdAt: unixNow(), imageCount: summary.imageCount,
            classCount: summary.classes.count,
            summary: String(decoding: try JSONEncoder.sortedKeys.encode(summary), as: UTF8.self),
            blobSHA256: blob.sha256, blobBytes: blob.bytes)
        // The client gave up (timeout, disconnect): nothing is recorded (the blob goes with the next sweep).
        if cancelled.isSet { throw CancellationError() }
        return record
    }

    /// Records an imported dataset (its blob and unpacked folder stay for the sweeps when this fails).
    func record(_ record: DatasetRecord) async throws {
        try await database.insert(record)
    }

    /// Start-up sweep on one machine: staging folders, and dataset folders whose row was never written, go.
    static func removeIncompleteDatasets(layout: DataLayout, database: SQLiteStore) throws {
        let files = FileManager.default
        let known = try database.datasetIDsNow()
        for name in (try? files.contentsOfDirectory(atPath: layout.datasets.path)) ?? [] where !known.contains(name) {
            try files.removeItem(at: layout.datasets.appendingPathComponent(name))
        }
    }

    /// Start-up: uploads this process was receiving when it stopped go (each replica has its own).
    static func clearUploads(layout: DataLayout) throws {
        try? FileManager.default.removeItem(at: layout.uploads)
        try FileManager.default.createDirectory(at: layout.uploads, withIntermediateDirectories: true)
    }
}
