import CLIP
import Foundation

/// An encoder checkpoint folder as found on disk, read without loading its weights: its
/// configuration, weight files and their element type, or why it cannot be served.
struct EncoderFolder: Sendable {
    struct Details: Sendable {
        let configuration: CLIPConfiguration
        /// In the order `CLIPModel.weightFiles` uses, so the digest is the same one.
        let weightFiles: [URL]
        /// The element type most weights are stored in (F32, F16, BF16), as the header names it.
        let dtype: String
    }

    let name: String
    let url: URL
    let details: Details?
    /// Why the folder looks like a checkpoint but cannot be read.
    let problem: String?

    /// Size and modification time of every weight file: the digest is recomputed only when these change.
    var fingerprint: [String] {
        (details?.weightFiles ?? []).map { file in
            let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            return "\(file.lastPathComponent) \(size) \(modified)"
        }
    }

    /// nil when the folder is not a checkpoint at all (`CheckpointFolder`'s rule: not an encoder).
    static func inspect(name: String, url: URL) -> EncoderFolder? {
        let folder: CheckpointFolder
        switch CheckpointFolder.inspect(url) {
        case .notACheckpoint: return nil
        case .unreadable(let reason): return EncoderFolder(name: name, url: url, details: nil, problem: reason)
        case .checkpoint(let found): folder = found
        }
        do {
            let configuration = try folder.configuration(in: url)
            let weightFiles = try folder.weightFiles(in: url)
            guard let first = weightFiles.first, FileManager.default.fileExists(atPath: first.path) else {
                throw CLIPError.checkpoint("no weights file \(weightFiles.first?.lastPathComponent ?? "")")
            }
            let dtype = try mainElementType(of: first)
            return EncoderFolder(name: name, url: url,
                                 details: Details(configuration: configuration, weightFiles: weightFiles, dtype: dtype),
                                 problem: nil)
        } catch {
            return EncoderFolder(name: name, url: url, details: nil, problem: "\(error)")
        }
    }

    /// The element type holding the most weight bytes (only the header is read).
    private static func mainElementType(of file: URL) throws -> String {
        let tensors = try SafeTensorsFile(url: file)
        var bytes: [String: Int] = [:]
        for info in tensors.infos { bytes[info.dtype.rawValue, default: 0] += info.byteCount }
        return bytes.max { $0.value < $1.value }?.key ?? "F32"
    }
}
