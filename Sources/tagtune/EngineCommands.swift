import ArgumentParser
import CLIP
import Compute
import Foundation
import Imaging

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

    @Option(help: "Images or texts per forward pass.")
    var batchSize: Int = 16

    func load() throws -> CLIPModel {
        if let threads { BLAS.setThreads(threads) }
        do {
            return try CLIPModel(directory: URL(fileURLWithPath: model))
        } catch let error as CLIPError {
            throw CommandFailure("cannot load the model in \(model): \(error)")
        }
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
        for chunk in stride(from: 0, to: files.count, by: max(1, options.batchSize)) {
            let paths = Array(files[chunk..<min(files.count, chunk + max(1, options.batchSize))])
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
        for chunk in stride(from: 0, to: texts.count, by: max(1, options.batchSize)) {
            let batch = Array(texts[chunk..<min(texts.count, chunk + max(1, options.batchSize))])
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

/// `tagtune tag`: zero-shot tagging with the prompt "a photo of a {class}.".
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Zero-shot tagging: score each image against each class with the prompt \"a photo of a {class}.\".")

    @OptionGroup var options: ModelOptions
    @Option(help: "Comma-separated class names.") var classes: String
    @Option(help: "Prompt template; {} is replaced by the class name.") var template: String = "a photo of a {}."
    @Argument(help: "Image files (JPEG or PNG).") var files: [String]

    func run() throws {
        let names = classes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("--classes needs at least one class name") }
        let model = try options.load()
        let classifier = try ZeroShotClassifier(model: model, classNames: names, template: template)
        for chunk in stride(from: 0, to: files.count, by: max(1, options.batchSize)) {
            let paths = Array(files[chunk..<min(files.count, chunk + max(1, options.batchSize))])
            let results = try classifier.classify(images: try paths.map(decodeImage))
            for (path, scores) in zip(paths, results) {
                var line = JSONLine()
                line.add("input", path)
                let labels = scores.sorted { $0.logit > $1.logit }.map { s in
                    var entry = JSONLine()
                    entry.add("label", s.label)
                    entry.add("logit", s.logit)
                    entry.add("probability", s.probability)
                    return entry.text
                }
                line.add("labels", raw: "[" + labels.joined(separator: ",") + "]")
                print(line.text)
            }
        }
    }
}
