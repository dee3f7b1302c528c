/// The hub's answer to `GET /api/models/{repo}/revision/{revision}?blobs=true`: the commit the
/// revision points at and every file in it, with sizes and, for files stored with Git LFS, their SHA-256.
public struct HubModelInfo: Decodable, Sendable, Equatable {
    public struct File: Decodable, Sendable, Equatable {
        public struct LFS: Decodable, Sendable, Equatable {
            public let sha256: String
            public let size: Int64
        }
        /// Path relative to the repository root.
        public let rfilename: String
        public let size: Int64?
        public let lfs: LFS?

        public init(rfilename: String, size: Int64?, lfs: LFS?) {
            self.rfilename = rfilename
            self.size = size
            self.lfs = lfs
        }
    }

    /// The commit (40 hex digits) the requested revision resolved to.
    public let sha: String
    public let siblings: [File]

    public init(sha: String, siblings: [File]) {
        self.sha = sha
        self.siblings = siblings
    }

    public func file(_ name: String) -> File? { siblings.first { $0.rfilename == name } }
}
