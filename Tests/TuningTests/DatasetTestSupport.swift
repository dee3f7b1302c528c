import Foundation
import Testing
import ZIPFoundation
@testable import Tuning

/// Paths and builders shared by the dataset tests.
enum DatasetTestSupport {
    /// The repository root, found from this file's own path (symlinks resolved).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `<repo>/../shared/data/lmpt-annotations`, where CI lays a copy of `shared/` beside the clone.
    /// Fails the calling test (never skips it) when the folder is not there.
    static func lmptAnnotations() throws -> URL {
        let folder = repositoryRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/data/lmpt-annotations").standardizedFileURL
        var isDirectory: ObjCBool = false
        let found = FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory)
        try #require(found && isDirectory.boolValue, """
            LMPT annotation files not found at \(folder.path): the tests expect a copy of shared/ \
            beside the repository (<repo>/../shared/data/lmpt-annotations/{voc,coco})
            """)
        return folder
    }

    /// A small JPEG and a small PNG from the imaging fixtures.
    static func fixtureImage(_ name: String) throws -> Data {
        try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/images/\(name)"))
    }

    static func jpeg() throws -> Data { try fixtureImage("jpeg_baseline_420.jpg") }
    static func png() throws -> Data { try fixtureImage("png_rgb.png") }

    /// Writes `files` (path → bytes) under a new temporary folder.
    static func makeFolder(_ files: [String: Data], in temporary: DatasetTemporaryFolder) throws -> URL {
        let root = temporary.url.appendingPathComponent("dataset-\(UUID().uuidString)")
        for (path, bytes) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try bytes.write(to: url)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    /// One zip entry to write: its raw path, its bytes, and whether it is a symlink.
    struct ZipEntry {
        var path: String
        var bytes: Data
        var isSymlink = false
        var compression: CompressionMethod = .deflate
    }

    /// Writes a zip holding `entries` in order, paths exactly as given (even unsafe ones).
    static func makeZip(_ entries: [ZipEntry], in temporary: DatasetTemporaryFolder) throws -> URL {
        let url = temporary.url.appendingPathComponent("dataset-\(UUID().uuidString).zip")
        let archive = try Archive(url: url, accessMode: .create)
        for entry in entries {
            let bytes = entry.bytes
            try archive.addEntry(with: entry.path, type: entry.isSymlink ? .symlink : .file,
                                 uncompressedSize: Int64(bytes.count), compressionMethod: entry.compression) {
                position, size in
                bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return url
    }

    /// The text of a `classes.txt` and a `manifest.jsonl` from lines.
    static func text(_ lines: [String]) -> Data { Data(lines.map { $0 + "\n" }.joined().utf8) }
}

/// A temporary folder removed when the value goes away.
final class DatasetTemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-datasets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

extension DatasetValidationError {
    /// The problem at `line` of `file` about `field`, if any.
    func problem(file: String? = nil, line: Int? = nil, field: String? = nil) -> DatasetProblem? {
        problems.first { ($0.file == file || file == nil) && ($0.line == line || line == nil)
            && ($0.field == field || field == nil) }
    }
}

/// Runs `body` and returns the validation error it throws, failing the test when it throws none.
func expectValidationError<T>(_ body: () throws(DatasetValidationError) -> T,
                              sourceLocation: SourceLocation = #_sourceLocation) -> DatasetValidationError? {
    do {
        _ = try body()
        Issue.record("expected a DatasetValidationError, the dataset was accepted", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
