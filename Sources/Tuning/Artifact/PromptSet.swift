import CLIP
import Compute
import Foundation

/// A tuned prompt set as an artifact of its own: a folder holding `prompts.safetensors`
/// (the context vectors and the class text features precomputed for serving, unit rows) and
/// `prompt_set.json` (`PromptSetManifest`). Loaded next to any copy of the same frozen encoder.
public struct PromptSet: Sendable {
    public static let tensorsFile = "prompts.safetensors"
    public static let manifestFile = "prompt_set.json"

    public var manifest: PromptSetManifest
    public let context: PromptContext
    /// Class text features [C, D], L2-normalised.
    public let classFeatures: [Float]

    public init(manifest: PromptSetManifest, context: PromptContext, classFeatures: [Float]) throws {
        let c = manifest.classes.count, d = manifest.encoder.projectionDim
        guard classFeatures.count == c * d else {
            throw TuningError.artifact("class features hold \(classFeatures.count) values; \(c) classes × \(d) expected")
        }
        guard manifest.thresholds.count == c, manifest.scoring.logitOffsets.count == c else {
            throw TuningError.artifact("thresholds and score offsets need one value per class (\(c))")
        }
        self.manifest = manifest
        self.context = context
        self.classFeatures = L2Normalize.rows(classFeatures, width: d)
    }

    /// Logits s·cos [N, C] for L2-normalised image features [N, D] (before the scoring's normalisation).
    public func logits(imageFeatures: [Float], logitScale: Float) -> [Float] {
        Labeling.cosineLogits(images: imageFeatures, classes: classFeatures, dimension: manifest.encoder.projectionDim,
                              scale: logitScale)
    }

    /// Scores in [0, 1] for L2-normalised image features [N, D], given the encoder's logit scale:
    /// sigmoid(normalised z − θ_c), the calibrated scoring the manifest records.
    public func scores(imageFeatures: [Float], logitScale: Float) -> [Float] {
        var out = logits(imageFeatures: imageFeatures, logitScale: logitScale)
        let c = manifest.classes.count
        manifest.scoring.normalization?.apply(to: &out, classes: c)
        let offsets = manifest.scoring.logitOffsets
        for i in out.indices { out[i] = 1 / (1 + exp(-(out[i] - offsets[i % c]))) }
        return out
    }

    /// Labels of projected image features [N, D] (normalised here), each image's ranked by score,
    /// present at the class's calibrated threshold or at `threshold` for every class.
    public func labels(imageFeatures: [Float], logitScale: Float, threshold: Float? = nil, topK: Int? = nil) -> [[ImageLabel]] {
        let unit = L2Normalize.rows(imageFeatures, width: manifest.encoder.projectionDim)
        return Labeling.labels(classNames: manifest.classes, scores: scores(imageFeatures: unit, logitScale: logitScale),
                               thresholds: threshold.map { Array(repeating: $0, count: manifest.classes.count) } ?? manifest.thresholds,
                               topK: topK)
    }

    /// Writes the folder atomically: everything goes into a temporary sibling folder, which is
    /// then renamed into place (replacing an older version only when `replace` is set).
    public func write(to folder: URL, replace: Bool = false) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        if fm.fileExists(atPath: folder.path) && !replace {
            throw TuningError.artifact("\(folder.path) exists already")
        }
        let staging = parent.appendingPathComponent(".\(folder.lastPathComponent).tmp-\(UUID().uuidString)")
        try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        defer { try? fm.removeItem(at: staging) }

        var writer = SafeTensorsWriter(metadata: ["format": PromptSetManifest.currentFormat, "id": manifest.id])
        let m = context.length, w = context.width, c = manifest.classes.count
        try writer.add("ctx", floats: context.values, shape: context.classSpecific ? [c, m, w] : [m, w])
        try writer.add("class_features", floats: classFeatures, shape: [c, manifest.encoder.projectionDim])
        let tensorsURL = staging.appendingPathComponent(Self.tensorsFile)
        try writer.write(to: tensorsURL)
        // The digest of the bytes as written, so a load can tell them from garbled or swapped ones.
        var written = manifest
        written.filesSHA256 = [Self.tensorsFile: try SHA256.hex(files: [tensorsURL])]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicFile.write(try encoder.encode(written), to: staging.appendingPathComponent(Self.manifestFile))

        if fm.fileExists(atPath: folder.path) {
            let old = parent.appendingPathComponent(".\(folder.lastPathComponent).old-\(UUID().uuidString)")
            try fm.moveItem(at: folder, to: old)
            try fm.moveItem(at: staging, to: folder)
            try? fm.removeItem(at: old)
        } else {
            try fm.moveItem(at: staging, to: folder)
        }
        try AtomicFile.syncFolder(parent.path)   // the rename into place survives a crash too
    }

    /// Reads a prompt-set folder, checking that its parts agree; with `model`, also that it was
    /// tuned for exactly these encoder weights.
    public static func load(from folder: URL, for model: CLIPModel? = nil) throws -> PromptSet {
        let manifestURL = folder.appendingPathComponent(manifestFile)
        guard let data = try? Data(contentsOf: manifestURL) else {
            throw TuningError.artifact("\(folder.path) has no readable \(manifestFile)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let manifest: PromptSetManifest
        do { manifest = try decoder.decode(PromptSetManifest.self, from: data) } catch {
            throw TuningError.artifact("\(manifestURL.path) is not a valid prompt-set manifest: \(error)")
        }
        guard manifest.format == PromptSetManifest.currentFormat else {
            throw TuningError.artifact("\(manifestURL.path) has format '\(manifest.format)'; this build reads \(PromptSetManifest.currentFormat)")
        }
        if let model {
            let digest = try model.weightsDigest()
            guard digest == manifest.encoder.weightsSHA256 else {
                throw TuningError.artifact("prompt set \(manifest.id) was tuned for encoder weights \(manifest.encoder.weightsSHA256.prefix(12))…, not for \(model.directory.lastPathComponent) (\(digest.prefix(12))…)")
            }
        }
        let tensors: SafeTensorsFile
        do { tensors = try SafeTensorsFile(url: folder.appendingPathComponent(tensorsFile)) } catch {
            throw TuningError.artifact("\(folder.path): \(error)")
        }
        try checkDigest(of: tensors, manifest: manifest)
        let context = PromptContext(classSpecific: manifest.classSpecific, length: manifest.contextLength,
                                    width: manifest.encoder.textWidth, values: try tensors.floats("ctx"))
        return try PromptSet(manifest: manifest, context: context, classFeatures: try tensors.floats("class_features"))
    }

    /// Refuses tensors whose bytes are not the ones written, when the manifest recorded their
    /// digest (older prompt sets did not: they are not checked).
    private static func checkDigest(of tensors: SafeTensorsFile, manifest: PromptSetManifest) throws {
        guard let expected = manifest.filesSHA256?[tensorsFile] else { return }
        let actual = tensors.contentSHA256()
        guard actual == expected.lowercased() else {
            throw TuningError.artifact("\(tensorsFile) is not the file this prompt set was written with: its SHA-256 is \(actual.prefix(12))…, \(manifestFile) records \(expected.prefix(12))… (garbled or replaced)")
        }
    }
}
