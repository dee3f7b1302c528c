import CLIP
import Foundation
import Tuning

/// Prompt sets and the models' default choices kept where every replica sees them (PostgreSQL).
/// Each replica materialises the catalog into its own `prompt_sets.dir` (the registry's sync), so
/// the registry keeps reading folders. Without a catalog (one machine), the folder is the record.
protocol PromptSetCatalog: Sendable {
    /// Each prompt set's version and the SHA-256 of its two files: enough to tell what changed.
    func promptSetVersions() async throws -> [String: PromptSetVersion]
    func promptSet(id: String) async throws -> (version: PromptSetVersion, files: PromptSetFiles)?
    /// Inserts the prompt set unless one with this id exists; true when inserted.
    func publishIfAbsent(id: String, files: PromptSetFiles) async throws -> Bool
    /// Replaces the manifest only if the stored one still has SHA-256 `expected` (compare and swap).
    func replaceManifest(id: String, with manifest: Data, expected: String) async throws -> ManifestReplacement
    /// Model name → the prompt set chosen as its default.
    func modelDefaults() async throws -> [String: String]
    func setModelDefault(model: String, promptSetID: String) async throws
}

struct PromptSetVersion: Sendable, Equatable {
    var version: Int
    var manifestSHA256: String
    var tensorsSHA256: String
}

enum ManifestReplacement: Sendable, Equatable {
    case replaced(PromptSetVersion)
    /// Changed since `expected` was read: its current manifest's SHA-256.
    case stale(current: String)
    case notFound
}

/// A prompt set's two files as bytes: `prompt_set.json` and `prompts.safetensors`.
struct PromptSetFiles: Sendable, Equatable {
    var manifest: Data
    var tensors: Data

    var manifestSHA256: String { Self.sha256(manifest) }
    var tensorsSHA256: String { Self.sha256(tensors) }

    static func sha256(_ bytes: Data) -> String { SHA256.hex(bytes) }

    /// The files of a prompt set folder.
    init(folder: URL) throws {
        manifest = try Data(contentsOf: folder.appendingPathComponent(PromptSet.manifestFile))
        tensors = try Data(contentsOf: folder.appendingPathComponent(PromptSet.tensorsFile))
    }

    init(manifest: Data, tensors: Data) {
        self.manifest = manifest
        self.tensors = tensors
    }

    /// Writes them as `folder`: a new folder appears whole (staged, then renamed); an existing one
    /// has each changed file replaced atomically, so a reader never misses the prompt set.
    func materialise(as folder: URL) throws {
        let files = FileManager.default
        if files.fileExists(atPath: folder.path) {
            let tensorsURL = folder.appendingPathComponent(PromptSet.tensorsFile)
            if (try? Data(contentsOf: tensorsURL, options: .alwaysMapped)) != tensors { try AtomicFile.write(tensors, to: tensorsURL) }
            let manifestURL = folder.appendingPathComponent(PromptSet.manifestFile)
            if (try? Data(contentsOf: manifestURL)) != manifest { try AtomicFile.write(manifest, to: manifestURL) }
            return
        }
        let staging = folder.deletingLastPathComponent().appendingPathComponent(".sync-\(folder.lastPathComponent)-\(UUID().uuidString)")
        defer { try? files.removeItem(at: staging) }
        try AtomicFile.write(tensors, to: staging.appendingPathComponent(PromptSet.tensorsFile))
        try AtomicFile.write(manifest, to: staging.appendingPathComponent(PromptSet.manifestFile))
        do {
            try files.moveItem(at: staging, to: folder)
        } catch where files.fileExists(atPath: folder.path) {
            try materialise(as: folder)   // written meanwhile (a job finishing here): bring it up to date
        }
        try AtomicFile.syncFolder(folder.deletingLastPathComponent().path)
    }
}
