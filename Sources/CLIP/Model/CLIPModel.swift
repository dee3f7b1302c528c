import Compute
import Foundation
import Imaging

/// A frozen CLIP model loaded from a checkpoint folder in either layout: configuration,
/// tokenizer, image preprocessing, both towers and the logit scale.
public final class CLIPModel: Sendable {
    public let directory: URL
    public let configuration: CLIPConfiguration
    public let tokenizer: CLIPTokenizer
    public let preprocess: CLIPPreprocess
    public let vision: VisionTower
    public let text: TextTower
    /// exp(logit_scale): the factor applied to cosine similarities (≈ 100 for OpenAI's models).
    public let logitScale: Float
    /// The safetensors files the weights came from, in a fixed order.
    public let weightFiles: [URL]
    private let digestCache = NSLock()
    nonisolated(unsafe) private var cachedDigest: String?

    /// Loads the checkpoint in `directory`, detecting its layout:
    /// Hugging Face (`config.json` + `model.safetensors` or a sharded index) or
    /// open_clip (`open_clip_config.json` + `open_clip_model.safetensors`).
    public init(directory: URL) throws {
        self.directory = directory
        let fm = FileManager.default
        func exists(_ name: String) -> Bool { fm.fileExists(atPath: directory.appendingPathComponent(name).path) }
        guard fm.fileExists(atPath: directory.path) else {
            throw CLIPError.checkpoint("no model folder at \(directory.path)")
        }
        let weights: any TensorSource
        if exists("open_clip_config.json") {
            configuration = try .openCLIP(json: try Self.readJSON(directory.appendingPathComponent("open_clip_config.json")))
            guard exists("open_clip_model.safetensors") else {
                throw CLIPError.checkpoint("\(directory.path) has open_clip_config.json but no open_clip_model.safetensors (only safetensors weights are read; convert .bin/.pt files first)")
            }
            weights = try SafeTensorsFile(url: directory.appendingPathComponent("open_clip_model.safetensors"))
        } else if exists("config.json") {
            configuration = try .huggingFace(json: try Self.readJSON(directory.appendingPathComponent("config.json")))
            if exists("model.safetensors") {
                weights = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
            } else if exists("model.safetensors.index.json") {
                weights = try SafeTensorsIndex(url: directory.appendingPathComponent("model.safetensors.index.json"))
            } else {
                throw CLIPError.checkpoint("\(directory.path) has config.json but neither model.safetensors nor model.safetensors.index.json (only safetensors weights are read)")
            }
        } else {
            throw CLIPError.checkpoint("\(directory.path) is not a CLIP checkpoint: expected config.json (Hugging Face) or open_clip_config.json (open_clip)")
        }
        tokenizer = try CLIPTokenizer(directory: directory)
        guard tokenizer.vocabularySize <= configuration.vocabularySize else {
            throw CLIPError.tokenizer("the tokenizer has \(tokenizer.vocabularySize) ids but the model's embedding has \(configuration.vocabularySize) rows")
        }
        preprocess = try Self.preprocessing(directory: directory, configuration: configuration)
        if let index = weights as? SafeTensorsIndex {
            weightFiles = index.shards.values.map(\.url).sorted { $0.lastPathComponent < $1.lastPathComponent }
        } else {
            weightFiles = [(weights as! SafeTensorsFile).url]
        }
        let loader = WeightLoader(source: weights, layout: configuration.layout)
        vision = try VisionTower(loader: loader, configuration: configuration)
        text = try TextTower(loader: loader, configuration: configuration)
        let scale = try loader.load(CheckpointLayout.source(.logitScale, layout: configuration.layout), shape: [])
        logitScale = Foundation.exp(scale.pointer[0])
    }

    /// SHA-256 of the weight files' bytes: what prompt sets and cached features are bound to.
    /// Computed on first use (about 0.3 s per GB) and kept.
    public func weightsDigest() throws -> String {
        digestCache.lock()
        defer { digestCache.unlock() }
        if let cachedDigest { return cachedDigest }
        let digest = try SHA256.hex(files: weightFiles)
        cachedDigest = digest
        return digest
    }

    /// What an image's features depend on besides its bytes: the weights and the preprocessing.
    /// Feature caches are keyed by it, so editing `preprocessor_config.json` never serves stale features.
    public func featureKey() throws -> String {
        let p = preprocess
        return SHA256.hex(Array("\(try weightsDigest()) \(p.shortestEdge) \(p.cropSize) \(p.mean) \(p.std) \(p.cropRule)".utf8))
    }

    static func readJSON(_ url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CLIPError.config("cannot read \(url.path): \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw CLIPError.config("\(url.path) is not a JSON object")
        }
        return json
    }

    /// The checkpoint family's own preprocessing: `preprocessor_config.json` (Hugging Face crop rule)
    /// or open_clip's `preprocess_cfg` (torchvision crop rule); the model's image size otherwise.
    static func preprocessing(directory: URL, configuration: CLIPConfiguration) throws -> CLIPPreprocess {
        let size = configuration.imageSize
        do {
            switch configuration.layout {
            case .openCLIP:
                let json = try readJSON(directory.appendingPathComponent("open_clip_config.json"))
                let cfg = json["preprocess_cfg"] as? [String: Any] ?? [:]
                if let mode = cfg["resize_mode"] as? String, mode != "shortest" {
                    throw CLIPError.unsupported("preprocess_cfg.resize_mode '\(mode)': only 'shortest' is supported")
                }
                if let interpolation = cfg["interpolation"] as? String, interpolation != "bicubic" {
                    throw CLIPError.unsupported("preprocess_cfg.interpolation '\(interpolation)': only 'bicubic' is supported")
                }
                let crop = (cfg["size"] as? Int) ?? (cfg["size"] as? [Int])?.first ?? size
                return try CLIPPreprocess(
                    shortestEdge: crop, cropSize: crop,
                    mean: floats(cfg["mean"]) ?? CLIPPreprocess.openAIMean,
                    std: floats(cfg["std"]) ?? CLIPPreprocess.openAIStd,
                    cropRule: .openCLIP)
            case .huggingFace:
                let url = directory.appendingPathComponent("preprocessor_config.json")
                guard FileManager.default.fileExists(atPath: url.path) else {
                    return try CLIPPreprocess(shortestEdge: size, cropSize: size)
                }
                let cfg = try readJSON(url)
                if let resample = cfg["resample"] as? Int, resample != 3 {
                    throw CLIPError.unsupported("preprocessor_config.json resample \(resample): only 3 (bicubic) is supported")
                }
                let shortest = (cfg["size"] as? [String: Any])?["shortest_edge"] as? Int ?? (cfg["size"] as? Int) ?? size
                let cropSize = (cfg["crop_size"] as? [String: Any])?["height"] as? Int ?? (cfg["crop_size"] as? Int) ?? size
                return try CLIPPreprocess(
                    shortestEdge: shortest, cropSize: cropSize,
                    mean: floats(cfg["image_mean"]) ?? CLIPPreprocess.openAIMean,
                    std: floats(cfg["image_std"]) ?? CLIPPreprocess.openAIStd,
                    cropRule: .huggingface)
            }
        } catch let error as ImagingError {
            throw CLIPError.config("preprocessing: \(error)")
        }
    }

    private static func floats(_ value: Any?) -> [Float]? {
        guard let array = value as? [Any] else { return nil }
        let numbers = array.compactMap { ($0 as? Double).map(Float.init) }
        return numbers.count == array.count ? numbers : nil
    }
}

extension CLIPModel {
    /// Projected image features [N, D] of already preprocessed pixels, in batches of `batchSize`.
    public func encodeImages(pixels: [Float], count: Int) throws -> [Float] {
        let per = 3 * configuration.imageSize * configuration.imageSize
        guard pixels.count == count * per else {
            throw CLIPError.invalidInput("\(pixels.count) pixel values for \(count) images of \(per)")
        }
        return pixels.withUnsafeBufferPointer { vision.encode(pixels: $0.baseAddress!, batch: count) }
    }

    /// Projected features of decoded images (preprocessed by the checkpoint's rule).
    public func encode(images: [RGBImage]) throws -> [Float] {
        let per = preprocess.outputCount
        guard preprocess.cropSize == configuration.imageSize else {
            throw CLIPError.config("preprocessing crops \(preprocess.cropSize) px but the model expects \(configuration.imageSize) px")
        }
        var pixels = [Float](repeating: 0, count: images.count * per)
        try pixels.withUnsafeMutableBufferPointer { buffer in
            for (i, image) in images.enumerated() {
                do {
                    try preprocess.apply(image, into: UnsafeMutableBufferPointer(rebasing: buffer[(i * per)..<((i + 1) * per)]))
                } catch { throw CLIPError.invalidInput("image \(i): \(error)") }
            }
        }
        return try encodeImages(pixels: pixels, count: images.count)
    }

    /// Projected features of texts, tokenized with the checkpoint's tokenizer and context length.
    public func encode(texts: [String]) throws -> [Float] {
        try text.encode(tokens: texts.map { tokenizer.tokenize($0, contextLength: configuration.contextLength) })
    }
}
