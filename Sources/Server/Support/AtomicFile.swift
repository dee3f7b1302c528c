import Foundation

/// Writes a file so that readers see either the old bytes or the new ones, never a mix,
/// and a crash right after the write loses nothing: temporary sibling, fsync, rename, fsync the folder.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AtomicFileError("cannot create \(temporary.path): \(errnoText())") }
        var closed = false
        defer {
            if !closed { close(descriptor) }
            unlink(temporary.path)   // no-op after the rename
        }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError("cannot write \(temporary.path): \(errnoText())")
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw AtomicFileError("cannot sync \(temporary.path): \(errnoText())") }
        close(descriptor)
        closed = true
        guard rename(temporary.path, url.path) == 0 else {
            throw AtomicFileError("cannot replace \(url.path): \(errnoText())")
        }
        let folderDescriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            _ = fsync(folderDescriptor)   // make the rename itself durable
            close(folderDescriptor)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

struct AtomicFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
