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

    /// nil when the folder holds no checkpoint configuration at all (not an encoder).
    static func inspect(name: String, url: URL) -> EncoderFolder? {
        let fm = FileManager.default
        func path(_ file: String) -> String { url.appendingPathComponent(file).path }
        let isOpenCLIP = fm.fileExists(atPath: path("open_clip_config.json"))
        guard isOpenCLIP || fm.fileExists(atPath: path("config.json")) else { return nil }
        do {
            let configuration: CLIPConfiguration
            let weightFiles: [URL]
            if isOpenCLIP {
                configuration = try .openCLIP(json: try readJSON(url.appendingPathComponent("open_clip_config.json")))
                weightFiles = [url.appendingPathComponent("open_clip_model.safetensors")]
            } else {
                configuration = try .huggingFace(json: try readJSON(url.appendingPathComponent("config.json")))
                if fm.fileExists(atPath: path("model.safetensors")) {
                    weightFiles = [url.appendingPathComponent("model.safetensors")]
                } else if fm.fileExists(atPath: path(SafeTensorsIndex.defaultFileName)) {
                    let index = try SafeTensorsIndex(url: url.appendingPathComponent(SafeTensorsIndex.defaultFileName))
                    weightFiles = index.shards.values.map(\.url).sorted { $0.lastPathComponent < $1.lastPathComponent }
                } else {
                    throw CLIPError.checkpoint("config.json but neither model.safetensors nor \(SafeTensorsIndex.defaultFileName)")
                }
            }
            guard let first = weightFiles.first, fm.fileExists(atPath: first.path) else {
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

    private static func readJSON(_ url: URL) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: url.path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIPError.config("\(url.lastPathComponent) is not a readable JSON object")
        }
        return json
    }

    /// The element type holding the most weight bytes (only the header is read).
    private static func mainElementType(of file: URL) throws -> String {
        let tensors = try SafeTensorsFile(url: file)
        var bytes: [String: Int] = [:]
        for info in tensors.infos { bytes[info.dtype.rawValue, default: 0] += info.byteCount }
        return bytes.max { $0.value < $1.value }?.key ?? "F32"
    }
}
