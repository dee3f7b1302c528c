import Foundation
import Hummingbird
import Logging
import NIOPosix

/// A folder served over HTTP that nothing can be read outside of: Hummingbird's local file
/// provider, but a request path is refused (as if absent) when one of its segments is hidden
/// (`.git`, `.env`), or when the file it names resolves, through symbolic links, to a place
/// outside the folder. `..` and percent-encoded `..` are refused by `FileMiddleware` before this.
struct ContainedFolder: FileProvider {
    typealias FileAttributes = LocalFileSystem.FileAttributes
    typealias FileIdentifier = LocalFileSystem.FileIdentifier

    private let files: LocalFileSystem
    /// The folder's real path (symbolic links resolved), with a trailing slash.
    private let realRoot: String

    init(_ folder: String, logger: Logger) {
        files = LocalFileSystem(rootFolder: folder, threadPool: .singleton, logger: logger)
        let resolved = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        realRoot = resolved.hasSuffix("/") ? resolved : resolved + "/"
    }

    func getFileIdentifier(_ path: String) -> FileIdentifier? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !segments.contains(where: { $0.hasPrefix(".") || $0.contains("\0") }) else { return nil }
        guard let id = files.getFileIdentifier(path) else { return nil }
        // A missing file passes here and is answered 404 by the attribute lookup.
        let real = URL(fileURLWithPath: id).resolvingSymlinksInPath().path
        guard real + "/" == realRoot || real.hasPrefix(realRoot) else { return nil }
        return id
    }

    func getAttributes(id: FileIdentifier) async throws -> FileAttributes? {
        try await files.getAttributes(id: id)
    }

    func loadFile(id: FileIdentifier, context: some RequestContext) async throws -> ResponseBody {
        try await files.loadFile(id: id, context: context)
    }

    func loadFile(id: FileIdentifier, range: ClosedRange<Int>, context: some RequestContext) async throws -> ResponseBody {
        try await files.loadFile(id: id, range: range, context: context)
    }
}
