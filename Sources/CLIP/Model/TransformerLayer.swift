import Compute

/// The weights of one pre-norm transformer block:
/// x += out_proj(attention(qkv(ln_1 x)));  x += fc2(act(fc1(ln_2 x))).
public struct TransformerLayer: Sendable {
    public let ln1Weight: Tensor, ln1Bias: Tensor      // [C]
    public let qkvWeight: Tensor, qkvBias: Tensor      // [3C, C], [3C]
    public let outWeight: Tensor, outBias: Tensor      // [C, C], [C]
    public let ln2Weight: Tensor, ln2Bias: Tensor      // [C]
    public let fc1Weight: Tensor, fc1Bias: Tensor      // [F, C], [F]
    public let fc2Weight: Tensor, fc2Bias: Tensor      // [C, F], [C]

    init(loader: WeightLoader, tower: CheckpointLayout.Tower, index: Int, configuration c: TowerConfiguration) throws {
        func load(_ part: CheckpointLayout.LayerPart, _ shape: [Int]) throws -> Tensor {
            try loader.load(CheckpointLayout.source(part, layer: index, tower: tower, layout: loader.layout), shape: shape)
        }
        let (w, f) = (c.width, c.mlpWidth)
        ln1Weight = try load(.ln1Weight, [w]); ln1Bias = try load(.ln1Bias, [w])
        qkvWeight = try load(.qkvWeight, [3 * w, w]); qkvBias = try load(.qkvBias, [3 * w])
        outWeight = try load(.outWeight, [w, w]); outBias = try load(.outBias, [w])
        ln2Weight = try load(.ln2Weight, [w]); ln2Bias = try load(.ln2Bias, [w])
        fc1Weight = try load(.fc1Weight, [f, w]); fc1Bias = try load(.fc1Bias, [f])
        fc2Weight = try load(.fc2Weight, [w, f]); fc2Bias = try load(.fc2Bias, [w])
    }
}

/// A stack of transformer layers and the forward pass both towers share.
public struct TransformerStack: Sendable {
    public let configuration: TowerConfiguration
    public let layers: [TransformerLayer]

    init(loader: WeightLoader, tower: CheckpointLayout.Tower, configuration: TowerConfiguration) throws {
        self.configuration = configuration
        layers = try (0..<configuration.layers).map {
            try TransformerLayer(loader: loader, tower: tower, index: $0, configuration: configuration)
        }
    }

    /// Buffers for one inference forward of `batch` sequences of `tokens` (allocated once per call).
    final class Workspace {
        let normed: Tensor, qkv: Tensor, attention: Tensor, probs: Tensor, hidden: Tensor

        init(batch: Int, tokens: Int, configuration c: TowerConfiguration) {
            let n = batch * tokens
            normed = Tensor(zeros: [n, c.width])
            qkv = Tensor(zeros: [n, 3 * c.width])
            attention = Tensor(zeros: [n, c.width])
            probs = Tensor(zeros: [batch, c.heads, tokens, tokens])
            hidden = Tensor(zeros: [n, c.mlpWidth])
        }
    }

    /// Runs every layer over the residual stream x [B, T, C] in place (inference: nothing kept).
    /// The residual additions are fused into the output projections (GEMM with β = 1).
    ///
    /// With `readOut`, only row `readOut[b]` of sequence b is read afterwards (the pooled token), so
    /// the last layer runs for those rows alone; the other rows of x then hold the stream before it.
    func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, tokens: Int, causal: Bool, readOut: [Int]? = nil) {
        let c = configuration
        let n = batch * tokens
        let ws = Workspace(batch: batch, tokens: tokens, configuration: c)
        let readOutLayer = readOut != nil && !layers.isEmpty ? layers.count - 1 : nil
        for layer in layers[..<(readOutLayer ?? layers.count)] {
            LayerNorm.forward(out: ws.normed.pointer, mean: nil, rstd: nil, inp: x,
                              weight: layer.ln1Weight.pointer, bias: layer.ln1Bias.pointer,
                              rows: n, channels: c.width, eps: c.layerNormEps)
            Linear.forward(out: ws.qkv.pointer, inp: ws.normed.pointer, weight: layer.qkvWeight.pointer, bias: layer.qkvBias.pointer,
                           rows: n, inFeatures: c.width, outFeatures: 3 * c.width)
            Attention.forward(out: ws.attention.pointer, probs: ws.probs.pointer, qkv: ws.qkv.pointer,
                              batch: batch, tokens: tokens, channels: c.width, heads: c.heads, causal: causal)
            Linear.forward(out: x, inp: ws.attention.pointer, weight: layer.outWeight.pointer, bias: layer.outBias.pointer,
                           rows: n, inFeatures: c.width, outFeatures: c.width, accumulate: true)
            LayerNorm.forward(out: ws.normed.pointer, mean: nil, rstd: nil, inp: x,
                              weight: layer.ln2Weight.pointer, bias: layer.ln2Bias.pointer,
                              rows: n, channels: c.width, eps: c.layerNormEps)
            Linear.forward(out: ws.hidden.pointer, inp: ws.normed.pointer, weight: layer.fc1Weight.pointer, bias: layer.fc1Bias.pointer,
                           rows: n, inFeatures: c.width, outFeatures: c.mlpWidth)
            c.activation.forward(out: ws.hidden.pointer, inp: ws.hidden.pointer, count: n * c.mlpWidth)
            Linear.forward(out: x, inp: ws.hidden.pointer, weight: layer.fc2Weight.pointer, bias: layer.fc2Bias.pointer,
                           rows: n, inFeatures: c.mlpWidth, outFeatures: c.width, accumulate: true)
        }
        if let readOutLayer, let readOut {
            // Keys and values go into the qkv buffer (N × 2C of its N × 3C), nothing is kept for a backward.
            let rows = ReadOutLayer(rows: readOut, batch: batch, tokens: tokens, configuration: c, keepsTrace: false, kv: ws.qkv)
            forwardReadOut(layers[readOutLayer], x, causal: causal, readOut: rows, normed: ws.normed.pointer)
        }
    }

    /// Only the projections `forward` runs (with one read-out row per sequence), on a workspace of
    /// zeros: the GEMM time a benchmark sets the whole forward against (what is left is attention
    /// and element-wise work).
    func projectionsOnly(batch: Int, tokens: Int) {
        let c = configuration, w = c.width
        let ws = Workspace(batch: batch, tokens: tokens, configuration: c)
        let x = Tensor(zeros: [batch * tokens, w])
        for (index, layer) in layers.enumerated() {
            // The last layer: keys and values for every token, the rest for one row per sequence.
            let last = index == layers.count - 1
            let n = last ? batch : batch * tokens
            if last {
                Linear.forward(out: ws.qkv.pointer, inp: ws.normed.pointer, weight: layer.qkvWeight.pointer + w * w,
                               bias: layer.qkvBias.pointer + w, rows: batch * tokens, inFeatures: w, outFeatures: 2 * w)
            }
            Linear.forward(out: ws.qkv.pointer, inp: ws.normed.pointer, weight: layer.qkvWeight.pointer, bias: layer.qkvBias.pointer,
                           rows: n, inFeatures: w, outFeatures: last ? w : 3 * w)
            Linear.forward(out: x.pointer, inp: ws.attention.pointer, weight: layer.outWeight.pointer, bias: layer.outBias.pointer,
                           rows: n, inFeatures: w, outFeatures: w, accumulate: true)
            Linear.forward(out: ws.hidden.pointer, inp: ws.normed.pointer, weight: layer.fc1Weight.pointer, bias: layer.fc1Bias.pointer,
                           rows: n, inFeatures: w, outFeatures: c.mlpWidth)
            Linear.forward(out: x.pointer, inp: ws.hidden.pointer, weight: layer.fc2Weight.pointer, bias: layer.fc2Bias.pointer,
                           rows: n, inFeatures: c.mlpWidth, outFeatures: w, accumulate: true)
        }
    }
}
