import Compute

/// The weights of one pre-norm transformer block:
/// x += out_proj(attention(qkv(ln_1 x)));  x += fc2(act(fc1(ln_2 x))).
public struct TransformerLayer: Sendable {
    public let ln1Weight: Tensor, ln1Bias: Tensor      // [C]
    public let qkvBias: Tensor                          // [3C]
    public let outBias: Tensor                          // [C]
    public let ln2Weight: Tensor, ln2Bias: Tensor      // [C]
    public let fc1Bias: Tensor                          // [F]
    public let fc2Bias: Tensor                          // [C]
    /// The four weight matrices in float32 as the checkpoint has them: kept where a backward runs
    /// through the layer (the text tower, for prompt tuning) or where nothing packed them.
    let matrices: Matrices?
    /// The same four reordered for oneDNN's matmul, in the model's precision.
    let packed: PackedProjections?

    struct Matrices {
        let qkv: Tensor    // [3C, C]
        let out: Tensor    // [C, C]
        let fc1: Tensor    // [F, C]
        let fc2: Tensor    // [C, F]
    }

    struct PackedProjections {
        let qkv: PackedWeight   // parts: the query rows, then the key and value rows
        let out: PackedWeight, fc1: PackedWeight, fc2: PackedWeight
    }

    /// Loads the layer; with `packing`, packs its matrices in that precision and keeps the float32
    /// ones only if `keepsMatrices`.
    init(loader: WeightLoader, tower: CheckpointLayout.Tower, index: Int, configuration c: TowerConfiguration,
         packing: Precision?, keepsMatrices: Bool) throws {
        func load(_ part: CheckpointLayout.LayerPart, _ shape: [Int]) throws -> Tensor {
            try loader.load(CheckpointLayout.source(part, layer: index, tower: tower, layout: loader.layout), shape: shape)
        }
        let (w, f) = (c.width, c.mlpWidth)
        ln1Weight = try load(.ln1Weight, [w]); ln1Bias = try load(.ln1Bias, [w])
        let qkv = try load(.qkvWeight, [3 * w, w]); qkvBias = try load(.qkvBias, [3 * w])
        let out = try load(.outWeight, [w, w]); outBias = try load(.outBias, [w])
        ln2Weight = try load(.ln2Weight, [w]); ln2Bias = try load(.ln2Bias, [w])
        let fc1 = try load(.fc1Weight, [f, w]); fc1Bias = try load(.fc1Bias, [f])
        let fc2 = try load(.fc2Weight, [w, f]); fc2Bias = try load(.fc2Bias, [w])
        if let precision = packing {
            packed = PackedProjections(
                qkv: try PackedWeight(qkv.pointer, outFeatures: 3 * w, inFeatures: w, precision: precision,
                                      parts: [0..<w, w..<3 * w]),
                out: try PackedWeight(out.pointer, outFeatures: w, inFeatures: w, precision: precision),
                fc1: try PackedWeight(fc1.pointer, outFeatures: f, inFeatures: w, precision: precision),
                fc2: try PackedWeight(fc2.pointer, outFeatures: w, inFeatures: f, precision: precision))
        } else {
            packed = nil
        }
        matrices = packing == nil || keepsMatrices ? Matrices(qkv: qkv, out: out, fc1: fc1, fc2: fc2) : nil
    }

    /// The float32 matrices, for the training forward and the backward (the text tower keeps them).
    var float32: Matrices {
        guard let matrices else { preconditionFailure("this layer was loaded without its float32 matrices (no backward)") }
        return matrices
    }

    /// Bytes of weights the layer holds (float32 matrices, packed ones, vectors).
    var bytes: Int {
        let vectors = [ln1Weight, ln1Bias, qkvBias, outBias, ln2Weight, ln2Bias, fc1Bias, fc2Bias].reduce(0) { $0 + $1.count }
        let plain = matrices.map { [$0.qkv, $0.out, $0.fc1, $0.fc2].reduce(0) { $0 + $1.count } } ?? 0
        let packedBytes = packed.map { [$0.qkv, $0.out, $0.fc1, $0.fc2].reduce(0) { $0 + $1.bytes } } ?? 0
        return 4 * (vectors + plain) + packedBytes
    }

    /// The layer's four products (and the query or key-value rows of the first): packed when the
    /// layer was loaded so, OpenBLAS on the float32 matrices otherwise.
    enum Projection { case qkv, q, kv, out, fc1, fc2 }

    /// out[rows, outputs] (+)= inp · Wᵀ + b for one of the layer's projections, then out = act(out)
    /// with `activation` (in the packed kernels as they write, else as a pass of its own).
    func project(packed usePacked: Bool = true, _ projection: Projection, out: UnsafeMutablePointer<Float>,
                 inp: UnsafePointer<Float>, rows m: Int, accumulate: Bool = false, activation: Activation? = nil) {
        let w = ln1Weight.count, f = fc1Bias.count
        let (bias, outputs, k): (Tensor, Range<Int>, Int) = switch projection {
        case .qkv: (qkvBias, 0..<3 * w, w)
        case .q: (qkvBias, 0..<w, w)
        case .kv: (qkvBias, w..<3 * w, w)
        case .out: (outBias, 0..<w, w)
        case .fc1: (fc1Bias, 0..<f, w)
        case .fc2: (fc2Bias, 0..<w, f)
        }
        if let packed, usePacked || matrices == nil {
            let weight = switch projection {
            case .qkv, .q, .kv: packed.qkv
            case .out: packed.out
            case .fc1: packed.fc1
            case .fc2: packed.fc2
            }
            weight.forward(out: out, inp: inp, rows: m, bias: bias.pointer, outputs: outputs, accumulate: accumulate,
                           activation: activation)
        } else {
            let plain = switch projection {
            case .qkv, .q, .kv: float32.qkv
            case .out: float32.out
            case .fc1: float32.fc1
            case .fc2: float32.fc2
            }
            Linear.forward(out: out, inp: inp, weight: plain.pointer + outputs.lowerBound * k,
                           bias: bias.pointer + outputs.lowerBound, rows: m, inFeatures: k,
                           outFeatures: outputs.count, accumulate: accumulate)
            activation?.forward(out: out, inp: out, count: m * outputs.count)
        }
    }
}

/// A stack of transformer layers and the forward pass both towers share.
public struct TransformerStack: Sendable {
    public let configuration: TowerConfiguration
    public let layers: [TransformerLayer]

    init(loader: WeightLoader, tower: CheckpointLayout.Tower, configuration: TowerConfiguration,
         packing: Precision?, keepsMatrices: Bool) throws {
        self.configuration = configuration
        layers = try (0..<configuration.layers).map {
            try TransformerLayer(loader: loader, tower: tower, index: $0, configuration: configuration,
                                 packing: packing, keepsMatrices: keepsMatrices)
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
            layer.project(.qkv, out: ws.qkv.pointer, inp: ws.normed.pointer, rows: n)
            Attention.forward(out: ws.attention.pointer, probs: ws.probs.pointer, qkv: ws.qkv.pointer,
                              batch: batch, tokens: tokens, channels: c.width, heads: c.heads, causal: causal)
            layer.project(.out, out: x, inp: ws.attention.pointer, rows: n, accumulate: true)
            LayerNorm.forward(out: ws.normed.pointer, mean: nil, rstd: nil, inp: x,
                              weight: layer.ln2Weight.pointer, bias: layer.ln2Bias.pointer,
                              rows: n, channels: c.width, eps: c.layerNormEps)
            layer.project(.fc1, out: ws.hidden.pointer, inp: ws.normed.pointer, rows: n, activation: c.activation)
            layer.project(.fc2, out: x, inp: ws.hidden.pointer, rows: n, accumulate: true)
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
                layer.project(.kv, out: ws.qkv.pointer, inp: ws.normed.pointer, rows: batch * tokens)
            }
            layer.project(last ? .q : .qkv, out: ws.qkv.pointer, inp: ws.normed.pointer, rows: n)
            layer.project(.out, out: x.pointer, inp: ws.attention.pointer, rows: n, accumulate: true)
            layer.project(.fc1, out: ws.hidden.pointer, inp: ws.normed.pointer, rows: n, activation: c.activation)
            layer.project(.fc2, out: x.pointer, inp: ws.hidden.pointer, rows: n, accumulate: true)
        }
    }
}
