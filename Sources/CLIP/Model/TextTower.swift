import Compute

/// CLIP's text encoder: token + position embeddings → causal layers → ln_final at the pooled
/// token → projection. Sequences run only up to the longest one in the batch: with a causal
/// mask, positions after a sequence's EOT cannot change its pooled state, so the cut is exact.
public final class TextTower: Sendable {
    public let configuration: CLIPConfiguration
    let tokenEmbedding: Tensor     // [V, C]
    let positions: Tensor          // [L, C]
    let transformer: TransformerStack
    let finalLNWeight: Tensor, finalLNBias: Tensor
    let projection: Tensor         // [D, C]

    /// With `packing`, the layers' matrices are also packed for the inference forward; the float32
    /// ones stay for prompt tuning, whose forward and backward use them.
    init(loader: WeightLoader, configuration: CLIPConfiguration, packing: Precision?) throws {
        self.configuration = configuration
        let c = configuration.text.width
        func load(_ part: CheckpointLayout.GlobalPart, _ shape: [Int]) throws -> Tensor {
            try loader.load(CheckpointLayout.source(part, layout: loader.layout), shape: shape)
        }
        tokenEmbedding = try load(.tokenEmbedding, [configuration.vocabularySize, c])
        positions = try load(.textPositions, [configuration.contextLength, c])
        transformer = try TransformerStack(loader: loader, tower: .text, configuration: configuration.text,
                                           packing: packing, keepsMatrices: true)
        finalLNWeight = try load(.finalLNWeight, [c]); finalLNBias = try load(.finalLNBias, [c])
        projection = try load(.textProjection, [configuration.projectionDim, c])
    }

    /// The position whose state is pooled, by the checkpoint's rule.
    public func poolingIndex(of ids: [Int32]) -> Int {
        switch configuration.pooling {
        case .argmax:
            var best = 0
            for i in ids.indices where ids[i] > ids[best] { best = i }   // first maximum, as torch.argmax
            return best
        case .firstEOS:
            let eos = Int32(configuration.eosTokenID ?? Int(ids.max() ?? 0))
            return ids.firstIndex(of: eos) ?? (ids.count - 1)
        }
    }

    /// Projected text features [N, D] (not normalised) of token sequences that include SOT and EOT.
    public func encode(tokens sequences: [[Int32]]) throws -> [Float] {
        let cfg = configuration
        guard !sequences.isEmpty else { return [] }
        for (i, ids) in sequences.enumerated() {
            guard !ids.isEmpty, ids.count <= cfg.contextLength else {
                throw CLIPError.invalidInput("sequence \(i) has \(ids.count) tokens; 1…\(cfg.contextLength) are allowed")
            }
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= cfg.vocabularySize }) {
                throw CLIPError.invalidInput("sequence \(i) holds token id \(bad), outside the vocabulary of \(cfg.vocabularySize)")
            }
        }
        let batch = sequences.count
        let tokens = sequences.map(\.count).max()!   // padding (id 0) is never seen by a pooled token
        let x = embed(tokens: sequences, length: tokens)
        return encode(embeddings: x, batch: batch, tokens: tokens, poolAt: sequences.map(poolingIndex))
    }

    /// Projected features from input embeddings x [B, T, C] (token + position already added),
    /// pooled at the given positions. Prompt tuning feeds learned context vectors through here.
    public func encode(embeddings x: Tensor, batch: Int, tokens: Int, poolAt indices: [Int]) -> [Float] {
        let cfg = configuration, c = cfg.text.width
        transformer.forward(x.pointer, batch: batch, tokens: tokens, causal: true, readOut: indices)
        let pooled = Tensor(zeros: [batch, c])
        for b in 0..<batch {
            LayerNorm.forward(out: pooled.pointer + b * c, mean: nil, rstd: nil,
                              inp: x.pointer + (b * tokens + indices[b]) * c,
                              weight: finalLNWeight.pointer, bias: finalLNBias.pointer,
                              rows: 1, channels: c, eps: cfg.text.layerNormEps)
        }
        var features = [Float](repeating: 0, count: batch * cfg.projectionDim)
        features.withUnsafeMutableBufferPointer { out in
            Linear.forward(out: out.baseAddress!, inp: pooled.pointer, weight: projection.pointer, bias: nil,
                           rows: batch, inFeatures: c, outFeatures: cfg.projectionDim)
        }
        return features
    }
}
