import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file memory-mapped read-only, or bytes copied from memory; released when the last
/// reference goes.
///
/// `@unchecked Sendable`: the bytes are never written after mapping or copying, so sharing them
/// across threads is safe.
final class SafeTensorsMapping: @unchecked Sendable {
    /// The file's bytes; empty (nil base) for an empty file.
    let bytes: UnsafeRawBufferPointer
    /// Whether `bytes` came from mmap (else from the heap).
    private let mapped: Bool

    /// A private copy of `data`, aligned for any element type the file may hold.
    init(copying data: some DataProtocol) {
        mapped = false
        guard data.count > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 16)
        _ = data.copyBytes(to: copy)
        bytes = UnsafeRawBufferPointer(copy)
    }

    /// Maps the file at `path` or throws a checkpoint error naming it.
    init(path: String) throws {
        mapped = true
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CLIPError.checkpoint("\(path): cannot open: \(Self.lastErrorText())")
        }
        defer { close(fd) }

        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw CLIPError.checkpoint("\(path): cannot stat: \(Self.lastErrorText())")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw CLIPError.checkpoint("\(path): not a regular file")
        }
        let size = Int(status.st_size)
        // mmap rejects a zero length; an empty file is reported as truncated by the header parser.
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw CLIPError.checkpoint("\(path): cannot memory-map \(size) bytes: \(Self.lastErrorText())")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            base.deallocate()
        }
    }

    private static func lastErrorText() -> String {
        String(cString: strerror(errno))
    }
}
