import CLIP
import Foundation

/// Where a pulled folder came from, saved beside the weights as `.pull.json`: the repository, the
/// commit its revision resolved to and each file's size and SHA-256. While a pull is under way the
/// same record in the partial folder names the commit its files belong to.
public struct PullRecord: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public let name: String
        public let size: Int64
        public let sha256: String
    }

    public static let fileName = ".pull.json"

    public let repository: String
    public let revision: String
    public let commit: String
    public let endpoint: String
    public let layout: String
    public var files: [File]
    public var pulledAt: String?

    enum CodingKeys: String, CodingKey {
        case repository, revision, commit, endpoint, layout, files
        case pulledAt = "pulled_at"
    }

    static func read(in folder: URL) -> PullRecord? {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(fileName).path) else { return nil }
        return try? JSONDecoder().decode(PullRecord.self, from: data)
    }

    /// Written to a temporary file and renamed over the old record.
    func write(in folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: folder.appendingPathComponent(Self.fileName))
    }
}
