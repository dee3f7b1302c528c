import Foundation

/// Entry point for opening safetensors weights by file: which files of a model folder hold its
/// weights is `CheckpointFolder`'s rule.
public enum SafeTensors {
    /// Opens a `.safetensors` file, or a `*.index.json` sharded checkpoint.
    public static func open(_ url: URL) throws -> any TensorSource {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIPError.checkpoint("\(url.path): no such file")
        }
        if url.lastPathComponent.hasSuffix(".index.json") {
            return try SafeTensorsIndex(url: url)
        }
        return try SafeTensorsFile(url: url)
    }
}
