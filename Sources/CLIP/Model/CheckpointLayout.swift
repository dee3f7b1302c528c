/// The one mapping between TagTune's weights and the two checkpoint layouts in the wild.
///
/// | TagTune                    | Hugging Face (`CLIPModel`)                          | open_clip / OpenAI                      |
/// |----------------------------|-----------------------------------------------------|-----------------------------------------|
/// | layer ln1                  | `…layers.N.layer_norm1`                             | `…resblocks.N.ln_1`                     |
/// | layer qkv [3C, C] (fused)  | `…self_attn.{q,k,v}_proj` stacked along rows        | `…attn.in_proj_weight` / `_bias`        |
/// | layer out                  | `…self_attn.out_proj`                               | `…attn.out_proj`                        |
/// | layer ln2                  | `…layer_norm2`                                      | `…ln_2`                                 |
/// | layer fc1 / fc2            | `…mlp.fc1` / `…mlp.fc2`                             | `…mlp.c_fc` / `…mlp.c_proj`             |
/// | text token embedding       | `text_model.embeddings.token_embedding.weight`      | `token_embedding.weight`                |
/// | text positions             | `text_model.embeddings.position_embedding.weight`   | `positional_embedding`                  |
/// | text final LN              | `text_model.final_layer_norm`                       | `ln_final`                              |
/// | text projection [D, C]     | `text_projection.weight` [D, C]                     | `text_projection` [C, D] (transposed)   |
/// | patch embedding [C,3,p,p]  | `vision_model.embeddings.patch_embedding.weight`    | `visual.conv1.weight`                   |
/// | class embedding [C]        | `vision_model.embeddings.class_embedding`           | `visual.class_embedding`                |
/// | vision positions           | `vision_model.embeddings.position_embedding.weight` | `visual.positional_embedding`           |
/// | pre / post LN              | `vision_model.pre_layrnorm` / `post_layernorm`      | `visual.ln_pre` / `visual.ln_post`      |
/// | vision projection [D, C]   | `visual_projection.weight` [D, C]                   | `visual.proj` [C, D] (transposed)       |
/// | logit scale (log)          | `logit_scale`                                       | `logit_scale`                           |
///
/// Linear weights are kept as PyTorch stores them, [out, in], in both layouts.
public enum CheckpointLayout {
    /// How one TagTune tensor is found in a checkpoint.
    public enum Source: Sendable, Equatable {
        /// One tensor, used as stored.
        case tensor(String)
        /// One 2-D tensor, transposed.
        case transposed(String)
        /// Several tensors stacked along their first dimension (q, k, v into qkv).
        case stacked([String])
    }

    /// The parts of a transformer layer, in the order the forward uses them.
    public enum LayerPart: String, CaseIterable, Sendable {
        case ln1Weight, ln1Bias, qkvWeight, qkvBias, outWeight, outBias, ln2Weight, ln2Bias, fc1Weight, fc1Bias, fc2Weight, fc2Bias
    }

    /// The parts outside the layers.
    public enum GlobalPart: String, CaseIterable, Sendable {
        case tokenEmbedding, textPositions, finalLNWeight, finalLNBias, textProjection
        case patchEmbedding, classEmbedding, visionPositions, preLNWeight, preLNBias, postLNWeight, postLNBias, visionProjection
        case logitScale
    }

    public enum Tower: Sendable { case text, vision }

    static func layerPrefix(_ layout: CLIPConfiguration.Layout, _ tower: Tower, _ index: Int) -> String {
        switch (layout, tower) {
        case (.huggingFace, .text): return "text_model.encoder.layers.\(index)."
        case (.huggingFace, .vision): return "vision_model.encoder.layers.\(index)."
        case (.openCLIP, .text): return "transformer.resblocks.\(index)."
        case (.openCLIP, .vision): return "visual.transformer.resblocks.\(index)."
        }
    }

    /// Where a layer's part lives in the checkpoint.
    public static func source(_ part: LayerPart, layer index: Int, tower: Tower, layout: CLIPConfiguration.Layout) -> Source {
        let p = layerPrefix(layout, tower, index)
        switch layout {
        case .huggingFace:
            switch part {
            case .ln1Weight: return .tensor(p + "layer_norm1.weight")
            case .ln1Bias: return .tensor(p + "layer_norm1.bias")
            case .qkvWeight: return .stacked(["q", "k", "v"].map { p + "self_attn.\($0)_proj.weight" })
            case .qkvBias: return .stacked(["q", "k", "v"].map { p + "self_attn.\($0)_proj.bias" })
            case .outWeight: return .tensor(p + "self_attn.out_proj.weight")
            case .outBias: return .tensor(p + "self_attn.out_proj.bias")
            case .ln2Weight: return .tensor(p + "layer_norm2.weight")
            case .ln2Bias: return .tensor(p + "layer_norm2.bias")
            case .fc1Weight: return .tensor(p + "mlp.fc1.weight")
            case .fc1Bias: return .tensor(p + "mlp.fc1.bias")
            case .fc2Weight: return .tensor(p + "mlp.fc2.weight")
            case .fc2Bias: return .tensor(p + "mlp.fc2.bias")
            }
        case .openCLIP:
            switch part {
            case .ln1Weight: return .tensor(p + "ln_1.weight")
            case .ln1Bias: return .tensor(p + "ln_1.bias")
            case .qkvWeight: return .tensor(p + "attn.in_proj_weight")
            case .qkvBias: return .tensor(p + "attn.in_proj_bias")
            case .outWeight: return .tensor(p + "attn.out_proj.weight")
            case .outBias: return .tensor(p + "attn.out_proj.bias")
            case .ln2Weight: return .tensor(p + "ln_2.weight")
            case .ln2Bias: return .tensor(p + "ln_2.bias")
            case .fc1Weight: return .tensor(p + "mlp.c_fc.weight")
            case .fc1Bias: return .tensor(p + "mlp.c_fc.bias")
            case .fc2Weight: return .tensor(p + "mlp.c_proj.weight")
            case .fc2Bias: return .tensor(p + "mlp.c_proj.bias")
            }
        }
    }

    /// Where a global part lives in the checkpoint.
    public static func source(_ part: GlobalPart, layout: CLIPConfiguration.Layout) -> Source {
        switch layout {
        case .huggingFace:
            switch part {
            case .tokenEmbedding: return .tensor("text_model.embeddings.token_embedding.weight")
            case .textPositions: return .tensor("text_model.embeddings.position_embedding.weight")
            case .finalLNWeight: return .tensor("text_model.final_layer_norm.weight")
            case .finalLNBias: return .tensor("text_model.final_layer_norm.bias")
            case .textProjection: return .tensor("text_projection.weight")
            case .patchEmbedding: return .tensor("vision_model.embeddings.patch_embedding.weight")
            case .classEmbedding: return .tensor("vision_model.embeddings.class_embedding")
            case .visionPositions: return .tensor("vision_model.embeddings.position_embedding.weight")
            case .preLNWeight: return .tensor("vision_model.pre_layrnorm.weight")
            case .preLNBias: return .tensor("vision_model.pre_layrnorm.bias")
            case .postLNWeight: return .tensor("vision_model.post_layernorm.weight")
            case .postLNBias: return .tensor("vision_model.post_layernorm.bias")
            case .visionProjection: return .tensor("visual_projection.weight")
            case .logitScale: return .tensor("logit_scale")
            }
        case .openCLIP:
            switch part {
            case .tokenEmbedding: return .tensor("token_embedding.weight")
            case .textPositions: return .tensor("positional_embedding")
            case .finalLNWeight: return .tensor("ln_final.weight")
            case .finalLNBias: return .tensor("ln_final.bias")
            case .textProjection: return .transposed("text_projection")
            case .patchEmbedding: return .tensor("visual.conv1.weight")
            case .classEmbedding: return .tensor("visual.class_embedding")
            case .visionPositions: return .tensor("visual.positional_embedding")
            case .preLNWeight: return .tensor("visual.ln_pre.weight")
            case .preLNBias: return .tensor("visual.ln_pre.bias")
            case .postLNWeight: return .tensor("visual.ln_post.weight")
            case .postLNBias: return .tensor("visual.ln_post.bias")
            case .visionProjection: return .transposed("visual.proj")
            case .logitScale: return .tensor("logit_scale")
            }
        }
    }
}

// MARK: - ResNet image towers

/// Where a ResNet tower's tensors are. Only open_clip (OpenAI) checkpoints have ResNet towers:
///
/// | TagTune                          | open_clip / OpenAI                                              |
/// |----------------------------------|-----------------------------------------------------------------|
/// | stem convolution i (1…3)         | `visual.conv{i}.weight`, batch norm `visual.bn{i}.*`            |
/// | stage s (1…4), block b, conv i   | `visual.layer{s}.{b}.conv{i}.weight`, batch norm `….bn{i}.*`    |
/// | block's shortcut convolution     | `visual.layer{s}.{b}.downsample.0.weight`, batch norm `….downsample.1.*` |
/// | attention pool                   | `visual.attnpool.positional_embedding`, `….{q,k,v,c}_proj.{weight,bias}` |
///
/// A batch norm's tensors are `weight`, `bias`, `running_mean` and `running_var` (its
/// `num_batches_tracked` is not read). Convolutions have no bias.
extension CheckpointLayout {
    public enum ResNetConvolution: Sendable, Equatable {
        case stem(Int)
        case block(stage: Int, block: Int, convolution: Int)
        case shortcut(stage: Int, block: Int)

        /// The convolution's weight tensor and the prefix of the batch norm that follows it.
        public var names: (weight: String, batchNorm: String) {
            switch self {
            case .stem(let i): ("visual.conv\(i).weight", "visual.bn\(i).")
            case .block(let s, let b, let i): ("visual.layer\(s).\(b).conv\(i).weight", "visual.layer\(s).\(b).bn\(i).")
            case .shortcut(let s, let b): ("visual.layer\(s).\(b).downsample.0.weight", "visual.layer\(s).\(b).downsample.1.")
            }
        }
    }

    public enum AttentionPoolPart: String, CaseIterable, Sendable {
        case positions = "visual.attnpool.positional_embedding"
        case queryWeight = "visual.attnpool.q_proj.weight", queryBias = "visual.attnpool.q_proj.bias"
        case keyWeight = "visual.attnpool.k_proj.weight", keyBias = "visual.attnpool.k_proj.bias"
        case valueWeight = "visual.attnpool.v_proj.weight", valueBias = "visual.attnpool.v_proj.bias"
        case outputWeight = "visual.attnpool.c_proj.weight", outputBias = "visual.attnpool.c_proj.bias"
    }

    /// The batch norm statistics and affine parameters, in the order folding reads them.
    public static let batchNormTensors = ["weight", "bias", "running_mean", "running_var"]
}
