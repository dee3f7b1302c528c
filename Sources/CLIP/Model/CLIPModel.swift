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
    /// The image encoder: a ViT (`VisionTower`) or a ResNet (`ResNetTower`).
    public let vision: any ImageTower
    public let text: TextTower
    /// exp(logit_scale): the factor applied to cosine similarities (≈ 100 for OpenAI's models).
    public let logitScale: Float
    /// The safetensors files the weights came from, in a fixed order.
    public let weightFiles: [URL]
    /// The precision the weight products run in: the one asked for, or f32 where this CPU has no
    /// bf16 kernels (`precisionNote` then says why).
    public let precision: Precision
    public let precisionNote: String?
    /// What runs the weight products: "oneDNN 2.6.3 gemm:jit (avx2)", or OpenBLAS where nothing was packed.
    public let weightProducts: String
    private let digestCache = NSLock()
    nonisolated(unsafe) private var cachedDigest: String?

    /// Loads the checkpoint in `directory`; what counts as one, in which layout, is `CheckpointFolder`'s rule.
    /// `precision` is the weight products' (see `Precision`); bf16 falls back to f32 on CPUs without it.
    public init(directory: URL, precision requested: Precision = .f32) throws {
        self.directory = directory
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw CLIPError.checkpoint("no model folder at \(directory.path)")
        }
        let folder: CheckpointFolder
        switch CheckpointFolder.inspect(directory) {
        case .checkpoint(let found): folder = found
        case .unreadable(let reason): throw CLIPError.checkpoint("\(directory.path): \(reason)")
        case .notACheckpoint:
            throw CLIPError.checkpoint("\(directory.path) is not a CLIP checkpoint: expected \(CheckpointFolder.huggingFaceConfig) "
                                       + "(Hugging Face) or \(CheckpointFolder.openCLIPConfig) (open_clip)")
        }
        configuration = try folder.configuration(in: directory)
        let (weights, files) = try folder.openWeights(in: directory)
        tokenizer = try CheckpointFolder.tokenizer(in: directory, for: configuration)
        preprocess = try Self.preprocessing(directory: directory, configuration: configuration)
        // Checked once here, so every encoder in use crops what its vision tower expects.
        guard preprocess.cropSize == configuration.imageSize else {
            throw CLIPError.config("\(directory.path): preprocessing crops \(preprocess.cropSize) px but the model expects \(configuration.imageSize) px")
        }
        weightFiles = files
        let loader = WeightLoader(source: weights, layout: configuration.layout)
        // The vision tower runs packed always (forward only); the text tower's products are packed
        // only in bf16, since prompt tuning runs it in float32 on the checkpoint's matrices.
        // bf16 only where the CPU computes it natively: oneDNN emulates it on plain AVX-512, slower than f32.
        let bf16Problem = requested != .bf16 ? nil
            : OneDNN.hasNativeBF16 ? PackedWeight.unsupportedReason(.bf16)
            : "this CPU has no AVX512_BF16 or AMX (oneDNN \(OneDNN.version) runs \(OneDNN.isa) kernels)"
        let f32Problem = PackedWeight.unsupportedReason(.f32)
        precision = bf16Problem == nil ? requested : .f32
        precisionNote = bf16Problem.map { "bf16 was asked for, serving f32: \($0)" }
        let packing: Precision? = precision == .bf16 ? .bf16 : (f32Problem == nil ? .f32 : nil)
        vision = configuration.resnet == nil
            ? try VisionTower(loader: loader, configuration: configuration, packing: packing)
            : try ResNetTower(loader: loader, configuration: configuration, packing: packing)
        text = try TextTower(loader: loader, configuration: configuration, packing: packing == .bf16 ? .bf16 : nil)
        weightProducts = vision.packedImplementation.map {
            $0.hasPrefix("tagtune:") ? "TagTune \($0.dropFirst("tagtune:".count))" : "oneDNN \(OneDNN.version) \($0) (\(OneDNN.isa))"
        }
            ?? "OpenBLAS (oneDNN: \(f32Problem ?? "not used"))"
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

    /// What an image's features depend on besides its bytes: the weights, the preprocessing and
    /// the precision they were computed in. Feature caches are keyed by it, so editing
    /// `preprocessor_config.json` or serving in bf16 never reads features made otherwise.
    public func featureKey() throws -> String {
        Self.featureKey(weightsDigest: try weightsDigest(), preprocess: preprocess, precision: precision)
    }

    /// f32 keys are those of the builds before precisions existed, so their caches stay valid.
    static func featureKey(weightsDigest: String, preprocess p: CLIPPreprocess, precision: Precision) -> String {
        let base = "\(weightsDigest) \(p.shortestEdge) \(p.cropSize) \(p.mean) \(p.std) \(p.cropRule)"
        return SHA256.hex(Array((precision == .f32 ? base : base + " \(precision.rawValue)").utf8))
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
    /// Projected image features [N, D] of `count` already preprocessed images, in one pass.
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
