import Foundation

/// Entry point for opening a safetensors checkpoint in whichever form it comes.
public enum SafeTensors {
    /// Opens a `.safetensors` file, a `*.index.json` sharded checkpoint, or a folder holding
    /// `model.safetensors.index.json` or `model.safetensors` (the index is preferred).
    public static func open(_ url: URL) throws -> any TensorSource {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw CLIPError.checkpoint("\(url.path): no such file or folder")
        }
        if isFolder.boolValue {
            let index = url.appendingPathComponent(SafeTensorsIndex.defaultFileName)
            if FileManager.default.fileExists(atPath: index.path) {
                return try SafeTensorsIndex(url: index)
            }
            let single = url.appendingPathComponent("model.safetensors")
            if FileManager.default.fileExists(atPath: single.path) {
                return try SafeTensorsFile(url: single)
            }
            throw CLIPError.checkpoint(
                "\(url.path): folder has neither \(SafeTensorsIndex.defaultFileName) nor model.safetensors")
        }
        if url.lastPathComponent.hasSuffix(".index.json") {
            return try SafeTensorsIndex(url: url)
        }
        return try SafeTensorsFile(url: url)
    }
}
