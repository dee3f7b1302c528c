import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file so that readers see the old or the new content, never a partial one,
/// and the new content survives a crash once this returns.
enum SafeTensorsAtomicWrite {
    /// Writes the bytes `produce` emits, in order, to a temporary file beside `url`, fsyncs it,
    /// renames it over `url` and fsyncs the folder so the rename itself is durable.
    static func replace(
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

        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folderFD >= 0 else { throw failure(path, "cannot open folder \(folder) to fsync it") }
        defer { close(folderFD) }
        guard fsync(folderFD) == 0 else { throw failure(path, "fsync of folder \(folder) failed") }
    }

    private static func writeFully(_ fd: Int32, _ chunk: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < chunk.count {
            let written = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw failure(path, "write failed")
            }
            offset += written
        }
    }

    private static func failure(_ path: String, _ what: String) -> CLIPError {
        .checkpoint("\(path): \(what): \(String(cString: strerror(errno)))")
    }
}
