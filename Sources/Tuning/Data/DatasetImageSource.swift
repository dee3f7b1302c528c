import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a dataset's image bytes come from: files under a folder, or entries of a zip archive.
enum DatasetImageSource: Sendable {
    /// Files under `root`; `canonicalRoot` is its real path, against which symlinks are checked.
    case folder(root: URL, canonicalRoot: String)
    case zip(ZipDatasetArchive)

    /// A folder source, or nil when the folder does not exist.
    static func folder(_ root: URL) -> DatasetImageSource? {
        guard let canonical = realPath(root.path) else { return nil }
        return .folder(root: root, canonicalRoot: canonical)
    }

    /// The folder or zip file the images are in.
    var location: URL {
        switch self {
        case .folder(let root, _): return root
        case .zip(let archive): return archive.url
        }
    }

    /// Why the image at `path` cannot be used (missing, outside the root, not a file, too large), or nil.
    func problem(with path: String, maximumBytes: Int) -> String? {
        switch self {
        case .folder(let root, let canonicalRoot):
            let fullPath = root.appendingPathComponent(path).path
            guard let real = Self.realPath(fullPath) else {
                return "image file not found: '\(path)'"
            }
            guard real.hasPrefix(canonicalRoot == "/" ? "/" : canonicalRoot + "/") else {
                return "image '\(path)' resolves (through a symbolic link) outside the dataset root"
            }
            var info = stat()
            guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                return "image '\(path)' is not a regular file"
            }
            if Int(info.st_size) > maximumBytes {
                return "image '\(path)' is \(info.st_size) bytes; the limit is \(maximumBytes)"
            }
            return nil
        case .zip(let archive):
            guard let size = archive.size(of: path) else {
                return "image file not found: no entry '\(path)' in \(archive.url.lastPathComponent)"
            }
            if size > UInt64(maximumBytes) {
                return "image '\(path)' is \(size) bytes; the limit is \(maximumBytes)"
            }
            return nil
        }
    }

    /// The bytes of the file at `path`, at most `maximumBytes`.
    func read(_ path: String, maximumBytes: Int) throws(TuningError) -> Data {
        switch self {
        case .folder(let root, _):
            let url = root.appendingPathComponent(path)
            do {
                let handle = try FileHandle(forReadingFrom: url)
                defer { try? handle.close() }
                let data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
                guard data.count <= maximumBytes else {
                    throw TuningError.dataset("image '\(path)' is over \(maximumBytes) bytes")
                }
                return data
            } catch let error as TuningError {
                throw error
            } catch {
                throw .dataset("image '\(path)' cannot be read: \(error.localizedDescription)")
            }
        case .zip(let archive):
            return try archive.read(path, maximumBytes: maximumBytes)
        }
    }

    /// The absolute path with every symlink resolved, or nil when nothing is there.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
