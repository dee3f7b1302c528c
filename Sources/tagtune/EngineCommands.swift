import ArgumentParser
import CLIP
import Compute
import Foundation
import Imaging
import Tuning

/// A failure at run time (not a usage error): printed as "Error: …" without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Options shared by the commands that load a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Checkpoint folder (Hugging Face or open_clip layout).")
    var model: String

    @Option(help: "Threads for matrix products (default: all cores).")
    var threads: Int?

    @Option(help: "Images or texts per forward pass of the encoder.")
    var encodeBatch: Int = 16

    @Option(help: "Precision of the weight products: f32, or bf16 (half the memory; f32 on CPUs without AVX-512).")
    var precision: Precision = .f32

    func load() throws -> CLIPModel { try loadModel(model, threads: threads, precision: precision) }
}

extension Precision: ExpressibleByArgument {}

/// Sets the BLAS thread count (when given) and loads a checkpoint folder, naming it in any failure.
/// A bf16 request that this CPU cannot serve is said on standard error, and f32 serves.
func loadModel(_ path: String, threads: Int?, precision: Precision = .f32) throws -> CLIPModel {
    if let threads { BLAS.setThreads(threads) }
    do {
        let model = try CLIPModel(directory: URL(fileURLWithPath: path), precision: precision)
        if let note = model.precisionNote { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        return model
    } catch {
        throw CommandFailure("cannot load the model in \(path): \(error)")
    }
}

/// Reads and decodes image files, reporting the file that failed.
func decodeImage(_ path: String) throws -> RGBImage {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandFailure("cannot read \(path)")
    }
    do {
        return try ImageDecoder.decode([UInt8](data))
    } catch {
        throw CommandFailure("\(path): \(error)")
    }
}

/// `tagtune embed-image`: projected image features, one JSON object per line.
struct EmbedImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed-image",
        abstract: "Print the projected (not normalised) image features of each file as a JSON line.")

    @OptionGroup var options: ModelOptions
    @Argument(help: "Image files (JPEG or PNG).") var files: [String]

    func run() throws {
        let model = try options.load()
        let d = model.configuration.projectionDim
        for chunk in stride(from: 0, to: files.count, by: max(1, options.encodeBatch)) {
            let paths = Array(files[chunk..<min(files.count, chunk + max(1, options.encodeBatch))])
            let features = try model.encode(images: try paths.map(decodeImage))
            for (i, path) in paths.enumerated() {
                var line = JSONLine()
                line.add("input", path)
                line.add("embedding", floats: features[(i * d)..<((i + 1) * d)])
                print(line.text)
            }
        }
    }
}

/// `tagtune embed-text`: token ids and projected text features, one JSON object per line.
struct EmbedText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed-text",
        abstract: "Print the token ids and projected (not normalised) text features of each text as a JSON line.",
        discussion: "Use -- before texts that start with a dash; an empty text is allowed.")

    @OptionGroup var options: ModelOptions
    @Argument(help: "Texts.") var texts: [String] = []

    func run() throws {
        let model = try options.load()
        let d = model.configuration.projectionDim
        for chunk in stride(from: 0, to: texts.count, by: max(1, options.encodeBatch)) {
            let batch = Array(texts[chunk..<min(texts.count, chunk + max(1, options.encodeBatch))])
            let tokens = batch.map { model.tokenizer.tokenize($0, contextLength: model.configuration.contextLength) }
            let features = try model.text.encode(tokens: tokens)
            for (i, text) in batch.enumerated() {
                var line = JSONLine()
                line.add("input", text)
                line.add("tokens", ints: tokens[i])
                line.add("embedding", floats: features[(i * d)..<((i + 1) * d)])
                print(line.text)
            }
        }
    }
}

/// `tagtune tag`: tags with a tuned prompt set (its calibrated scores and thresholds), or zero-shot
/// with the prompt "a photo of a {class}." (softmax over the given classes). One JSON line per image
/// whose labels are exactly those `POST /v1/tag` answers for it: both come from the engine's `Labeling`.
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tag images with a prompt set (--prompts) or zero-shot class names (--classes).")

    @OptionGroup var options: ModelOptions
    @Option(help: "Comma-separated class names (zero-shot).") var classes: String?
    @Option(help: "Prompt set folder (tuned prompts with per-class thresholds).") var prompts: String?
    @Option(help: "Prompt template for zero-shot; {} is replaced by the class name.") var template: String = ZeroShotClassifier.defaultTemplate
    @Option(help: "One threshold for every class instead of the prompt set's (zero-shot: 0.5).") var threshold: Float?
    @Option(help: "Print only the k highest-scoring labels of each image.") var topK: Int?
    @Argument(help: "Image files (JPEG or PNG).") var files: [String]

    func validate() throws {
        guard (classes != nil) != (prompts != nil) else { throw ValidationError("give exactly one of --classes and --prompts") }
        if let threshold, !(0...1).contains(threshold) { throw ValidationError("--threshold must be in [0, 1]") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
        let model = try options.load()
        let label: ([Float]) -> [[ImageLabel]]
        if let prompts {
            let set: PromptSet
            do { set = try PromptSet.load(from: URL(fileURLWithPath: prompts), for: model) } catch { throw CommandFailure("\(error)") }
            label = { set.labels(imageFeatures: $0, logitScale: model.logitScale, threshold: threshold, topK: topK) }
        } else {
            let names = (classes ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw ValidationError("--classes needs at least one class name") }
            let classifier = try ZeroShotClassifier(model: model, classNames: names, template: template)
            label = { classifier.labels(imageFeatures: $0, threshold: threshold, topK: topK) }
        }
        let batch = max(1, options.encodeBatch)
        for chunk in stride(from: 0, to: files.count, by: batch) {
            let paths = Array(files[chunk..<min(files.count, chunk + batch)])
            for (path, labels) in zip(paths, label(try model.encode(images: try paths.map(decodeImage)))) {
                let entries = labels.map { l in
                    var entry = JSONLine()
                    entry.add("label", l.label)
                    entry.add("score", l.score)
                    entry.add("threshold", l.threshold)
                    entry.add("present", raw: l.present ? "true" : "false")
                    if let logit = l.logit { entry.add("logit", logit) }
                    return entry.text
                }
                var line = JSONLine()
                line.add("input", path)
                line.add("labels", raw: "[" + entries.joined(separator: ",") + "]")
                print(line.text)
            }
        }
    }
}
