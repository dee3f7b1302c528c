import Foundation
import Imaging
import Tuning

/// Turns an uploaded zip into an accepted dataset, all or nothing: the zip is validated whole
/// (`DatasetLoader`: safe entry paths, no links, size and compression-ratio limits, every image
/// decodable, every label in `classes.txt`), then only the files the manifest names are written to
/// a hidden staging folder, which is renamed into `datasets/<id>` and then recorded in the store.
/// A crash part-way leaves a staging folder or a folder without a row, both removed at start-up.
struct DatasetImporter: Sendable {
    let layout: DataLayout
    let database: any TuningStore
    let options: DatasetLoadOptions

    init(layout: DataLayout, database: any TuningStore, configuration: ServerConfiguration) {
        self.layout = layout
        self.database = database
        options = DatasetLoadOptions(
            decodesImages: true,
            decodeLimits: DecodeLimits(maxEncodedBytes: DecodeLimits.default.maxEncodedBytes,
                                       maxPixelCount: configuration.limits.maxImagePixels),
            maximumClasses: Self.maximumClasses,
            zipLimits: ZipLimits(maximumEntryCount: ZipLimits.default.maximumEntryCount,
                                 maximumTotalUncompressedBytes: UInt64(configuration.datasetMaxInflatedBytes),
                                 maximumCompressionRatio: ZipLimits.default.maximumCompressionRatio))
    }

    static let stagingPrefix = ".staging-"
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
        let id = ResourceID.make("ds-")
        let staging = layout.datasets.appendingPathComponent(Self.stagingPrefix + id, isDirectory: true)
        let files = FileManager.default
        defer { try? files.removeItem(at: staging) }
        try files.createDirectory(at: staging, withIntermediateDirectories: true)
        for (index, item) in dataset.items.enumerated() {
            if cancelled.isSet { throw CancellationError() }   // the client gave up: stop writing
            let target = staging.appendingPathComponent(item.image)
            do {
                // Paths were normalised by the loader (relative, no `..`); checked again before writing.
                guard target.standardizedFileURL.path.hasPrefix(staging.standardizedFileURL.path + "/") else {
                    throw TuningError.dataset("path leaves the dataset folder")
                }
                try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(dataset.imageBytes(at: index)).write(to: target)
            } catch where OutOfSpace.matches(error) {
                throw error   // the server's disk, not the client's data: 507
            } catch {
                throw DatasetValidationError(DatasetProblem(
                    file: "manifest.jsonl", line: index + 1, field: "image",
                    message: "image '\(item.image)' cannot be stored: \(error)"))
            }
        }
        try DatasetManifestWriter.write(dataset.annotations, to: staging)

        let summary = dataset.summary()
        let record = DatasetRecord(
            id: id, name: name, createdAt: unixNow(), imageCount: summary.imageCount,
            classCount: summary.classes.count,
            summary: String(decoding: try JSONEncoder.sortedKeys.encode(summary), as: UTF8.self))
        // The client gave up (timeout, disconnect): nothing is kept.
        if cancelled.isSet { throw CancellationError() }
        try files.moveItem(at: staging, to: layout.dataset(id))
        return record
    }

    /// Records an imported dataset; its folder goes when the row cannot be written.
    func record(_ record: DatasetRecord) async throws {
        do { try await database.insert(record) } catch {
            try? FileManager.default.removeItem(at: layout.dataset(record.id))
            throw error
        }
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
