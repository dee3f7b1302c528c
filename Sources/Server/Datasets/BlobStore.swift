import CLIP
import Foundation

/// Where validated dataset zips live, named by their SHA-256, so that every replica reads the same
/// bytes. A seam: a shared folder today (NFS, a ReadWriteMany volume, or just `data_dir/blobs` on
/// one machine); an object store would be another conformer.
protocol BlobStore: Sendable {
    /// Stores the file's bytes (atomically: readers never see part of a blob) and names them.
    func put(_ file: URL) throws -> StoredBlob
    /// A local path to read the blob from; throws `BlobMissing` when it is not there.
    func file(_ sha256: String) throws -> URL
    func remove(_ sha256: String) throws
    /// Every stored blob with its last change, for the orphan sweep.
    func list() throws -> [(sha256: String, modified: Date)]
}

struct StoredBlob: Sendable, Equatable {
    var sha256: String
    var bytes: Int64
}

struct BlobMissing: Error, CustomStringConvertible {
    var sha256: String
    var description: String { "blob \(sha256) is not in the blob store (blobs.dir): is the shared folder mounted on this replica?" }
}

/// The shared-folder blob store: `<root>/<first two hex digits>/<sha256>.zip`. Writes go to a
/// temporary sibling, are fsynced and renamed (`AtomicFile`), so two replicas storing the same
/// bytes at once both end with one whole file.
struct FolderBlobStore: BlobStore {
    let root: URL

    private func url(_ sha256: String) -> URL {
        root.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true).appendingPathComponent(sha256 + ".zip")
    }

    func put(_ file: URL) throws -> StoredBlob {
        let sha256 = try SHA256.hex(files: [file])
        let bytes = try (FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0
        let target = url(sha256)
        if let existing = try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? NSNumber,
           existing.int64Value == bytes {
            // Content-addressed: the same upload again. Touched, so the orphan sweep's grace starts
            // over and cannot remove it before this upload's row is written.
            try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: target.path)
            return StoredBlob(sha256: sha256, bytes: bytes)
        }
        let data = try Data(contentsOf: file, options: .alwaysMapped)
        try AtomicFile.write(data, to: target)
        return StoredBlob(sha256: sha256, bytes: bytes)
    }

    func file(_ sha256: String) throws -> URL {
        let found = url(sha256)
        guard FileManager.default.fileExists(atPath: found.path) else { throw BlobMissing(sha256: sha256) }
        return found
    }

    func remove(_ sha256: String) throws {
        do { try FileManager.default.removeItem(at: url(sha256)) } catch CocoaError.fileNoSuchFile {}
    }

    func list() throws -> [(sha256: String, modified: Date)] {
        let files = FileManager.default
        var found: [(String, Date)] = []
        for shard in (try? files.contentsOfDirectory(atPath: root.path)) ?? [] where shard.count == 2 {
            let folder = root.appendingPathComponent(shard, isDirectory: true)
            for name in (try? files.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasSuffix(".zip") {
                let modified = (try? files.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.modificationDate] as? Date) ?? .distantPast
                found.append((String(name.dropLast(4)), modified ?? .distantPast))
            }
        }
        return found
    }
}
