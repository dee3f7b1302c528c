import CLIP
import Foundation

/// The prompt set each model uses when a request names none, as chosen through
/// `PATCH /v1/prompt-sets/{id}` `{"default": true}`: a small JSON file in the data folder,
/// replaced atomically, so a choice survives restarts and a crash never leaves half a file.
struct DefaultPromptSetStore: Sendable {
    static let fileName = "default-prompt-sets.json"

    let url: URL

    init(dataDirectory: URL) {
        url = dataDirectory.appendingPathComponent(Self.fileName)
    }

    private struct File: Codable {
        var defaults: [String: String]
    }

    /// Model name → prompt set id; empty when nothing was chosen yet.
    func load() throws -> [String: String] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        do {
            return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).defaults
        } catch {
            throw RegistryError.persistence("\(url.path) is not a valid defaults file: \(error)")
        }
    }

    func save(_ defaults: [String: String]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try AtomicFile.write(try encoder.encode(File(defaults: defaults)), to: url)
        } catch {
            throw RegistryError.persistence("\(error)")
        }
    }
}
