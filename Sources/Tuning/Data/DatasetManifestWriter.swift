import CLIP
import Foundation

/// Writes annotations in TagTune's dataset format: `classes.txt` (one name a line) and `manifest.jsonl`
/// (`{"image": …, "labels": [names…], "caption": …}` a line, caption only when the item has one).
public enum DatasetManifestWriter {
    /// The contents of `manifest.jsonl`.
    public static func manifestData(_ annotations: DatasetAnnotations) -> Data {
        var text = ""
        for item in annotations.items {
            let labels = item.labels.map { JSONText.quoted(annotations.classes[$0]) }.joined(separator: ", ")
            text += "{\"image\": \(JSONText.quoted(item.image)), \"labels\": [\(labels)]"
            if let caption = item.caption { text += ", \"caption\": \(JSONText.quoted(caption))" }
            text += "}\n"
        }
        return Data(text.utf8)
    }

    /// The contents of `classes.txt`.
    public static func classesData(_ annotations: DatasetAnnotations) -> Data {
        Data(annotations.classes.map { $0 + "\n" }.joined().utf8)
    }

    /// Writes both files into `folder` (created if needed), each atomically. With `imageRoot`, first
    /// copies every item's image from there to the same relative path under `folder`, so the folder is
    /// a complete dataset; without it, the images must already be under `folder` for it to load.
    public static func write(_ annotations: DatasetAnnotations, to folder: URL,
                             copyingImagesFrom imageRoot: URL? = nil) throws(TuningError) {
        let files = FileManager.default
        do {
            try files.createDirectory(at: folder, withIntermediateDirectories: true)
            if let imageRoot {
                for item in annotations.items {
                    let source = imageRoot.appendingPathComponent(item.image)
                    let target = folder.appendingPathComponent(item.image)
                    if source.standardizedFileURL == target.standardizedFileURL { continue }
                    try files.createDirectory(at: target.deletingLastPathComponent(),
                                              withIntermediateDirectories: true)
                    if files.fileExists(atPath: target.path) { try files.removeItem(at: target) }
                    try files.copyItem(at: source, to: target)
                }
            }
            // The manifest goes last: a folder with a manifest is a finished one.
            try AtomicFile.write(classesData(annotations), to: folder.appendingPathComponent(ClassListParser.fileName))
            try AtomicFile.write(manifestData(annotations), to: folder.appendingPathComponent(ManifestParser.fileName))
        } catch {
            throw .dataset("cannot write the dataset to \(folder.path): \((error as? AtomicFileError)?.description ?? error.localizedDescription)")
        }
    }
}
