import Foundation
import Imaging
import Tuning

/// This replica's datasets, unpacked from their blobs into `cache.dir/datasets/<sha256>`: a job
/// reads plain files, and a replica that never saw the upload unpacks the zip on first use. A
/// folder is staged under a hidden name and renamed whole, so a crash leaves no half dataset.
struct DatasetCache: Sendable {
    let layout: DataLayout
    let blobs: any BlobStore
    let decodeLimits: DecodeLimits

    static let stagingPrefix = ".staging-"

    /// The folder to read dataset `record` from: the cached unpacking of its blob (made now when
    /// missing), or the folder of a dataset accepted before the blob store.
    func folder(for record: DatasetRecord) throws -> URL {
        guard let sha256 = record.blobSHA256 else { return layout.dataset(record.id) }
        let folder = layout.unpackedDataset(sha256: sha256)
        if FileManager.default.fileExists(atPath: folder.path) { return folder }
        // Validated whole at upload; the zip's paths and limits are checked again while reading.
        let dataset = try DatasetLoader.load(from: try blobs.file(sha256),
                                             options: DatasetLoadOptions(decodesImages: false, decodeLimits: decodeLimits))
        try store(dataset, sha256: sha256, cancelled: CancellationFlag())
        return folder
    }

    /// Writes the manifest's images and annotations of a loaded dataset as `sha256`'s folder.
    /// Throws `CancellationError` once `cancelled` is set; two writers of one blob both succeed.
    func store(_ dataset: Dataset, sha256: String, cancelled: CancellationFlag) throws {
        let target = layout.unpackedDataset(sha256: sha256)
        let files = FileManager.default
        if files.fileExists(atPath: target.path) { return }
        let parent = target.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(Self.stagingPrefix + UUID().uuidString, isDirectory: true)
        defer { try? files.removeItem(at: staging) }
        try files.createDirectory(at: staging, withIntermediateDirectories: true)
        for (index, item) in dataset.items.enumerated() {
            if cancelled.isSet { throw CancellationError() }   // the client gave up: stop writing
            let file = staging.appendingPathComponent(item.image)
            do {
                // Paths were normalised by the loader (relative, no `..`); checked again before writing.
                guard file.standardizedFileURL.path.hasPrefix(staging.standardizedFileURL.path + "/") else {
                    throw TuningError.dataset("path leaves the dataset folder")
                }
                try files.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(dataset.imageBytes(at: index)).write(to: file)
            } catch where OutOfSpace.matches(error) {
                throw error   // the server's disk, not the client's data: 507
            } catch {
                throw DatasetValidationError(DatasetProblem(
                    file: "manifest.jsonl", line: index + 1, field: "image",
                    message: "image '\(item.image)' cannot be stored: \(error)"))
            }
        }
        try DatasetManifestWriter.write(dataset.annotations, to: staging)
        do {
            try files.moveItem(at: staging, to: target)
        } catch where files.fileExists(atPath: target.path) {
            return   // another job unpacked the same blob first
        }
    }

    /// Removes staging folders left by a crash (only at start-up: later, an unpack may be staging
    /// now) and, when `unreferenced`, unpacked datasets whose blob no row names any more.
    func sweep(keeping wanted: Set<String>, includingStaging: Bool, unreferenced: Bool) {
        let files = FileManager.default
        let folder = layout.cache.appendingPathComponent("datasets", isDirectory: true)
        for name in (try? files.contentsOfDirectory(atPath: folder.path)) ?? [] {
            let staging = name.hasPrefix(Self.stagingPrefix)
            if staging ? includingStaging : unreferenced && !wanted.contains(name) {
                try? files.removeItem(at: folder.appendingPathComponent(name))
            }
        }
    }
}
