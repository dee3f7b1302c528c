#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The one way TagTune writes a file that matters (checkpoints, prompt sets, job checkpoints,
/// manifests, pull records, the registry's defaults): readers see the old bytes or the new ones,
/// never a mix, and a crash right after the call loses nothing. The bytes go to a temporary
/// sibling, which is fsynced and renamed over the target; then the folder is fsynced so the
/// rename itself is durable.
public enum AtomicFile {
    /// Writes the bytes `produce` emits, in order.
    public static func replace(
        _ url: URL, with produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let path = url.path
        let folder = url.deletingLastPathComponent().path
        let temporary = "\(folder)/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw failure(path, "cannot create temporary file \(temporary)")
        }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }

        do {
            try produce { chunk in try writeFully(fd, chunk, path: path) }
            guard fsync(fd) == 0 else { throw failure(path, "fsync failed") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure(path, "close failed") }
        guard rename(temporary, path) == 0 else { throw failure(path, "cannot rename \(temporary) into place") }
        renamed = true
        try syncFolder(folder, for: path)
    }

    /// Writes `data`, creating the folder when it is missing.
    public static func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try replace(url) { emit in try data.withUnsafeBytes(emit) }
    }

    /// Makes a rename into `folder` (of a file, or of a whole staged folder) durable.
    public static func syncFolder(_ folder: String, for path: String? = nil) throws {
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folderFD >= 0 else { throw failure(path ?? folder, "cannot open folder \(folder) to fsync it") }
        defer { close(folderFD) }
        guard fsync(folderFD) == 0 else { throw failure(path ?? folder, "fsync of folder \(folder) failed") }
    }

    private static func writeFully(_ fd: Int32, _ chunk: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < chunk.count {
            let written = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw failure(path, "write failed")
            }
            offset += written
        }
    }

    private static func failure(_ path: String, _ what: String) -> AtomicFileError {
        AtomicFileError(description: "\(path): \(what): \(String(cString: strerror(errno)))")
    }
}

/// A file that could not be written; names the file, the step and the system's reason.
public struct AtomicFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
