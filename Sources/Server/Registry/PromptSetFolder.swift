import CLIP
import Foundation
import Tuning

/// A prompt-set folder as found on disk: its manifest (read without the tensors), or why it
/// cannot be read. The folder's name is the prompt set's id in the API.
struct PromptSetFolder: Sendable {
    let id: String
    let url: URL
    let manifest: PromptSetManifest?
    let problem: String?
    /// SHA-256 of `prompt_set.json`'s bytes: the prompt set's `ETag` (nil when it cannot be read).
    let manifestSHA256: String?
    /// Identity, size and modification time of `prompt_set.json` and `prompts.safetensors`: a
    /// replaced folder, an edited manifest or tensors changed under a running server are read again.
    let fingerprint: String

    var manifestURL: URL { url.appendingPathComponent(PromptSet.manifestFile) }

    /// nil when the folder has no manifest (not a prompt set, or still being written).
    static func inspect(id: String, url: URL) -> PromptSetFolder? {
        let manifestURL = url.appendingPathComponent(PromptSet.manifestFile)
        guard FileManager.default.fileExists(atPath: manifestURL.path) else { return nil }
        let print = fingerprint(ofFolder: url)
        var digest: String?
        do {
            let data = try Data(contentsOf: manifestURL)
            digest = SHA256.hex(data)
            let manifest = try manifestDecoder.decode(PromptSetManifest.self, from: data)
            guard manifest.format == PromptSetManifest.currentFormat else {
                return PromptSetFolder(id: id, url: url, manifest: nil,
                                       problem: "format '\(manifest.format)'; this server reads \(PromptSetManifest.currentFormat)",
                                       manifestSHA256: digest, fingerprint: print)
            }
            return PromptSetFolder(id: id, url: url, manifest: manifest, problem: nil, manifestSHA256: digest, fingerprint: print)
        } catch {
            return PromptSetFolder(id: id, url: url, manifest: nil, problem: "\(PromptSet.manifestFile) cannot be read: \(error)",
                                   manifestSHA256: digest, fingerprint: print)
        }
    }

    static func fingerprint(ofFolder url: URL) -> String {
        fingerprint(of: url.appendingPathComponent(PromptSet.manifestFile)) + " / "
            + fingerprint(of: url.appendingPathComponent(PromptSet.tensorsFile))
    }

    static func fingerprint(of file: URL) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        let inode = (attributes?[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
        return "\(inode) \(size) \(modified)"
    }

    static var manifestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// The same formatting `PromptSet.write` uses, so an edited manifest differs only where it changed.
    static var manifestEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
