import Compute
import Foundation

/// The shape of one transformer tower and how its layers compute.
public struct TowerConfiguration: Sendable, Equatable {
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var mlpWidth: Int
    public var layerNormEps: Float
    public var activation: Activation

    public var headWidth: Int { width / heads }
}

/// How the text tower picks the token whose state becomes the text feature.
public enum TextPooling: String, Sendable, Equatable {
    /// The position of the highest id (OpenAI, open_clip; EOT has the highest id of the vocabulary).
    case argmax
    /// The first position holding `eosTokenID` (Hugging Face configs with a real eos_token_id).
    case firstEOS = "first_eos"
}

/// open_clip's ModifiedResNet image tower: a three-convolution stem of `width` channels, four
/// stages of Bottleneck blocks (stage i: planes width·2^i, outputs 4·width·2^i, strides 1, 2, 2, 2),
/// and an attention pool over the final grid (embed width 32·width, `heads` heads).
public struct ResNetConfiguration: Sendable, Equatable {
    public var width: Int
    /// Bottleneck blocks per stage (four stages).
    public var blocks: [Int]
    public var heads: Int

    /// Channels of the last stage, the attention pool's width.
    public var embedWidth: Int { width * 32 }
    /// The tower's total stride: the stem's 4 and three stages' 2.
    public static let stride = 32
}

/// Everything that decides a CLIP model's computation, read from a checkpoint's configuration.
public struct CLIPConfiguration: Sendable, Equatable {
    public enum Layout: String, Sendable { case huggingFace = "huggingface", openCLIP = "open_clip" }

    public var layout: Layout
    public var projectionDim: Int
    public var text: TowerConfiguration
    public var vocabularySize: Int
    public var contextLength: Int
    public var pooling: TextPooling
    public var eosTokenID: Int?
    public var vision: TowerConfiguration
    public var imageSize: Int
    public var patchSize: Int
    /// Set when the image tower is a ResNet (open_clip's ModifiedResNet) rather than a ViT. Then
    /// `vision` holds the attention pool's width and heads and the number of Bottleneck blocks as
    /// `layers`, and `patchSize` is the tower's total stride (32), so `patchesPerSide` is the side
    /// of the grid the attention pool reads.
    public var resnet: ResNetConfiguration? = nil
    /// open_clip's `text_cfg.hf_tokenizer_name`: the model tokenizes with that Hugging Face
    /// tokenizer, not CLIP's standard vocabulary.
    public var hubTokenizerName: String? = nil

    public var patchesPerSide: Int { imageSize / patchSize }
    public var patchCount: Int { patchesPerSide * patchesPerSide }
}

// MARK: - Hugging Face `config.json`

extension CLIPConfiguration {
    /// Reads a Hugging Face `config.json` (model_type "clip"), with transformers' defaults for absent keys.
    public static func huggingFace(json: [String: Any]) throws -> CLIPConfiguration {
        if let type = json["model_type"] as? String, type != "clip" {
            throw CLIPError.unsupported("model_type '\(type)': only CLIP checkpoints (model_type \"clip\") are supported")
        }
        // Old configs keep overrides in *_config_dict next to (or instead of) *_config.
        func section(_ name: String) -> [String: Any] {
            var merged = json[name] as? [String: Any] ?? [:]
            for (k, v) in json["\(name)_dict"] as? [String: Any] ?? [:] { merged[k] = v }
            return merged
        }
        let text = section("text_config"), vision = section("vision_config")
        let textTower = try tower(text, prefix: "text_config", width: 512, layers: 12, heads: 8, mlp: 2048)
        let visionTower = try tower(vision, prefix: "vision_config", width: 768, layers: 12, heads: 12, mlp: 3072)
        let eos = try int(text, "eos_token_id", prefix: "text_config", default: 49407)
        let configuration = CLIPConfiguration(
            layout: .huggingFace,
            projectionDim: try int(json, "projection_dim", prefix: "", default: 512),
            text: textTower,
            vocabularySize: try int(text, "vocab_size", prefix: "text_config", default: 49408),
            contextLength: try int(text, "max_position_embeddings", prefix: "text_config", default: 77),
            // transformers: eos_token_id == 2 marks legacy configs that pool at argmax(ids).
            pooling: eos == 2 ? .argmax : .firstEOS,
            eosTokenID: eos == 2 ? nil : eos,
            vision: visionTower,
            imageSize: try int(vision, "image_size", prefix: "vision_config", default: 224),
            patchSize: try int(vision, "patch_size", prefix: "vision_config", default: 32))
        try configuration.validate()
        return configuration
    }

    private static func tower(_ json: [String: Any], prefix: String, width: Int, layers: Int, heads: Int, mlp: Int) throws -> TowerConfiguration {
        let actName = json["hidden_act"] as? String ?? "quick_gelu"
        let activation: Activation
        switch actName {
        case "quick_gelu": activation = .quickGELU
        case "gelu": activation = .gelu
        default: throw CLIPError.unsupported("\(prefix).hidden_act '\(actName)': supported are quick_gelu and gelu")
        }
        return TowerConfiguration(
            width: try int(json, "hidden_size", prefix: prefix, default: width),
            layers: try int(json, "num_hidden_layers", prefix: prefix, default: layers),
            heads: try int(json, "num_attention_heads", prefix: prefix, default: heads),
            mlpWidth: try int(json, "intermediate_size", prefix: prefix, default: mlp),
            layerNormEps: Float(try number(json, "layer_norm_eps", prefix: prefix, default: 1e-5)),
            activation: activation)
    }
}

// MARK: - open_clip `open_clip_config.json`

extension CLIPConfiguration {
    /// Reads open_clip's `open_clip_config.json` (`model_cfg`), refusing the variants this engine does not run.
    public static func openCLIP(json: [String: Any]) throws -> CLIPConfiguration {
        guard let model = json["model_cfg"] as? [String: Any] else {
            throw CLIPError.config("open_clip_config.json has no model_cfg object")
        }
        guard let vision = model["vision_cfg"] as? [String: Any], let text = model["text_cfg"] as? [String: Any] else {
            throw CLIPError.config("model_cfg needs vision_cfg and text_cfg objects")
        }
        for key in ["timm_model_name", "attentional_pool", "ls_init_value"] where !(vision[key] == nil || vision[key] is NSNull || (vision[key] as? Bool) == false) {
            throw CLIPError.unsupported("vision_cfg.\(key) is set: this open_clip variant is not supported")
        }
        for key in ["hf_model_name", "ls_init_value", "embed_cls"] where !(text[key] == nil || text[key] is NSNull || (text[key] as? Bool) == false) {
            throw CLIPError.unsupported("text_cfg.\(key) is set: this open_clip variant is not supported")
        }
        if let pool = vision["pool_type"] as? String, pool != "tok" {
            throw CLIPError.unsupported("vision_cfg.pool_type '\(pool)': only 'tok' (class token) is supported")
        }
        if let pool = text["pool_type"] as? String, pool != "argmax" {
            throw CLIPError.unsupported("text_cfg.pool_type '\(pool)': only 'argmax' is supported")
        }
        if (text["no_causal_mask"] as? Bool) == true { throw CLIPError.unsupported("text_cfg.no_causal_mask is set") }
        if (vision["no_ln_pre"] as? Bool) == true { throw CLIPError.unsupported("vision_cfg.no_ln_pre is set") }
        if (text["proj_bias"] as? Bool) == true { throw CLIPError.unsupported("text_cfg.proj_bias is set") }

        let activation: Activation = (model["quick_gelu"] as? Bool) == true ? .quickGELU : .gelu
        let resnet = try resNet(vision)
        let visionWidth = try int(vision, "width", prefix: "vision_cfg", default: 768)
        let headWidth = try int(vision, "head_width", prefix: "vision_cfg", default: 64)
        let visionMLP = try number(vision, "mlp_ratio", prefix: "vision_cfg", default: 4)
        let textWidth = try int(text, "width", prefix: "text_cfg", default: 512)
        let textMLP = try number(text, "mlp_ratio", prefix: "text_cfg", default: 4)
        let imageSize: Int
        if let sizes = vision["image_size"] as? [Int] {
            guard sizes.count == 2, sizes[0] == sizes[1] else {
                throw CLIPError.unsupported("vision_cfg.image_size \(sizes): only square images are supported")
            }
            imageSize = sizes[0]
        } else {
            imageSize = try int(vision, "image_size", prefix: "vision_cfg", default: 224)
        }
        var configuration = CLIPConfiguration(
            layout: .openCLIP,
            projectionDim: try int(model, "embed_dim", prefix: "model_cfg", default: 512),
            text: TowerConfiguration(
                width: textWidth,
                layers: try int(text, "layers", prefix: "text_cfg", default: 12),
                heads: try int(text, "heads", prefix: "text_cfg", default: 8),
                mlpWidth: Int(Double(textWidth) * textMLP),
                layerNormEps: 1e-5, activation: activation),
            vocabularySize: try int(text, "vocab_size", prefix: "text_cfg", default: 49408),
            contextLength: try int(text, "context_length", prefix: "text_cfg", default: 77),
            pooling: .argmax, eosTokenID: nil,
            vision: TowerConfiguration(
                width: visionWidth,
                layers: try resnet.map { $0.blocks.reduce(0, +) } ?? int(vision, "layers", prefix: "vision_cfg", default: 12),
                heads: visionWidth / headWidth,
                mlpWidth: Int(Double(visionWidth) * visionMLP),
                layerNormEps: 1e-5, activation: activation),
            imageSize: imageSize,
            patchSize: try int(vision, "patch_size", prefix: "vision_cfg", default: 16))
        if let name = text["hf_tokenizer_name"] as? String, !name.isEmpty { configuration.hubTokenizerName = name }
        if let resnet {
            configuration.resnet = resnet
            configuration.vision = TowerConfiguration(width: resnet.embedWidth, layers: resnet.blocks.reduce(0, +),
                                                      heads: resnet.heads, mlpWidth: resnet.embedWidth,
                                                      layerNormEps: 1e-5, activation: activation)
            configuration.patchSize = ResNetConfiguration.stride
        }
        try configuration.validate()
        return configuration
    }

    /// The ResNet tower of a `vision_cfg` whose `layers` is a list (open_clip's ModifiedResNet, as
    /// in RN50, RN101, RN50x4, RN50x16, RN50x64); nil for a ViT. Heads are width·32 / head_width.
    private static func resNet(_ vision: [String: Any]) throws -> ResNetConfiguration? {
        guard let layers = vision["layers"] as? [Any] else { return nil }
        let blocks = layers.compactMap { ($0 as? Int) ?? ($0 as? Double).flatMap { $0 == $0.rounded() ? Int($0) : nil } }
        guard blocks.count == 4, layers.count == 4, blocks.allSatisfy({ $0 > 0 }) else {
            throw CLIPError.config("vision_cfg.layers \(layers): a ResNet tower needs four positive block counts")
        }
        let width = try int(vision, "width", prefix: "vision_cfg", default: 64)
        let headWidth = try int(vision, "head_width", prefix: "vision_cfg", default: 64)
        guard width > 0, headWidth > 0, (width * 32) % headWidth == 0 else {
            throw CLIPError.config("vision_cfg: width \(width) · 32 must be a positive multiple of head_width \(headWidth)")
        }
        return ResNetConfiguration(width: width, blocks: blocks, heads: width * 32 / headWidth)
    }
}

// MARK: - Checks shared by both layouts

extension CLIPConfiguration {
    func validate() throws {
        for (name, tower) in [("text", text), ("vision", vision)] {
            guard tower.width > 0, tower.layers > 0, tower.heads > 0, tower.mlpWidth > 0 else {
                throw CLIPError.config("\(name) tower: width, layers, heads and MLP width must be positive")
            }
            guard tower.width % tower.heads == 0 else {
                throw CLIPError.config("\(name) tower: width \(tower.width) is not divisible by \(tower.heads) heads")
            }
        }
        if let resnet {
            guard resnet.width % 2 == 0, imageSize >= ResNetConfiguration.stride, imageSize % ResNetConfiguration.stride == 0 else {
                throw CLIPError.config("a ResNet tower needs an even width (found \(resnet.width)) and an image size that is a multiple of 32 (found \(imageSize))")
            }
        }
        guard patchSize > 0, imageSize > 0, imageSize % patchSize == 0 else {
            throw CLIPError.config("image size \(imageSize) must be a positive multiple of the patch size \(patchSize)")
        }
        guard projectionDim > 0, vocabularySize > 0, contextLength > 1 else {
            throw CLIPError.config("projection dim, vocabulary size and context length must be positive")
        }
    }
}

private func int(_ json: [String: Any], _ key: String, prefix: String, default fallback: Int) throws -> Int {
    guard let value = json[key], !(value is NSNull) else { return fallback }
    if let v = value as? Int { return v }
    if let v = value as? Double, v == v.rounded() { return Int(v) }
    throw CLIPError.config("\(prefix.isEmpty ? "" : prefix + ".")\(key) should be an integer, found \(value)")
}

private func number(_ json: [String: Any], _ key: String, prefix: String, default fallback: Double) throws -> Double {
    guard let value = json[key], !(value is NSNull) else { return fallback }
    if let v = value as? Double { return v }
    if let v = value as? Int { return Double(v) }
    throw CLIPError.config("\(prefix).\(key) should be a number, found \(value)")
}
