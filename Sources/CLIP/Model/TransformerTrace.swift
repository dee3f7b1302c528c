import Compute

/// How the rows of a training forward form sequences.
public enum SequenceLayout: Sendable, Equatable {
    /// `batch` sequences of `tokens` rows each, [B, T].
    case separate(batch: Int, tokens: Int)
    /// `sequences` sequences that begin with the same `prefix` rows, stored once, followed by each
    /// sequence's `suffix` rows (`SharedPrefixAttention`).
    case sharedPrefix(prefix: Int, sequences: Int, suffix: Int)

    /// N, the rows of the residual stream.
    public var rows: Int {
        switch self {
        case let .separate(batch, tokens): batch * tokens
        case let .sharedPrefix(prefix, sequences, suffix): prefix + sequences * suffix
        }
    }

    func probsCount(heads: Int) -> Int {
        switch self {
        case let .separate(batch, tokens): batch * heads * tokens * tokens
        case let .sharedPrefix(p, s, l): SharedPrefixAttention.probsCount(prefix: p, sequences: s, suffix: l, heads: heads)
        }
    }

    func attentionForward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                          channels: Int, heads: Int, causal: Bool) {
        switch self {
        case let .separate(batch, tokens):
            Attention.forward(out: out, probs: probs, qkv: qkv, batch: batch, tokens: tokens, channels: channels,
                              heads: heads, causal: causal)
        case let .sharedPrefix(p, s, l):
            precondition(causal, "a shared prefix is exact only under a causal mask")
            SharedPrefixAttention.forward(out: out, probs: probs, qkv: qkv, prefix: p, sequences: s, suffix: l,
                                          channels: channels, heads: heads)
        }
    }

    func attentionBackward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                           probs: UnsafePointer<Float>, channels: Int, heads: Int) {
        switch self {
        case let .separate(batch, tokens):
            Attention.backward(dqkv: dqkv, dout: dout, qkv: qkv, probs: probs, batch: batch, tokens: tokens,
                               channels: channels, heads: heads)
        case let .sharedPrefix(p, s, l):
            SharedPrefixAttention.backward(dqkv: dqkv, dout: dout, qkv: qkv, probs: probs, prefix: p, sequences: s,
                                           suffix: l, channels: channels, heads: heads)
        }
    }
}

/// The activations one training forward of a transformer stack keeps for its backward pass,
/// per layer, for a fixed layout of rows (llm.c's "activations" struct).
/// Only gradients with respect to the input are computed later (the encoder is frozen),
/// so nothing is kept for weight gradients beyond what the input gradient needs.
public final class TransformerTrace {
    public let layout: SequenceLayout
    let configuration: TowerConfiguration

    /// One layer's saved tensors. Shapes: N = rows, C = width, F = MLP width, H = heads.
    final class Layer {
        let input: Tensor        // [N, C]  residual stream entering the layer (LN1's input)
        let ln1Mean: Tensor, ln1Rstd: Tensor   // [N]
        let qkv: Tensor          // [N, 3C]
        let probs: Tensor        // [B, H, T, T], or the shared-prefix blocks
        let attention: Tensor    // [N, C]  attention output before out_proj
        let middle: Tensor       // [N, C]  residual stream after the attention block (LN2's input)
        let ln2Mean: Tensor, ln2Rstd: Tensor   // [N]
        let ln2Out: Tensor       // [N, C]
        let preActivation: Tensor  // [N, F]  fc1 output
        let activation: Tensor   // [N, F]  act(fc1 output)

        init(layout: SequenceLayout, c: TowerConfiguration) {
            let n = layout.rows
            input = Tensor(zeros: [n, c.width])
            ln1Mean = Tensor(zeros: [n]); ln1Rstd = Tensor(zeros: [n])
            qkv = Tensor(zeros: [n, 3 * c.width])
            probs = Tensor(zeros: [layout.probsCount(heads: c.heads)])
            attention = Tensor(zeros: [n, c.width])
            middle = Tensor(zeros: [n, c.width])
            ln2Mean = Tensor(zeros: [n]); ln2Rstd = Tensor(zeros: [n])
            ln2Out = Tensor(zeros: [n, c.width])
            preActivation = Tensor(zeros: [n, c.mlpWidth])
            activation = Tensor(zeros: [n, c.mlpWidth])
        }
    }
    let layers: [Layer]
    let readOut: ReadOutLayer?
    /// Scratch buffers reused by every layer's forward and backward.
    let normed: Tensor           // [N, C]
    let gradA: Tensor, gradB: Tensor   // [N, C]
    let gradQKV: Tensor          // [N, 3C]
    let gradHidden: Tensor       // [N, F]

    /// With `readOut` (one token per sequence; separate sequences only), the last layer keeps and
    /// computes only what those rows need, as the inference forward does.
    public init(layout: SequenceLayout, configuration c: TowerConfiguration, readOut rows: [Int]? = nil) {
        self.layout = layout
        configuration = c
        let n = layout.rows
        let readOutLayer = rows != nil && c.layers > 0
        layers = (0..<(readOutLayer ? c.layers - 1 : c.layers)).map { _ in Layer(layout: layout, c: c) }
        if readOutLayer, case let .separate(batch, tokens) = layout {
            readOut = ReadOutLayer(rows: rows!, batch: batch, tokens: tokens, configuration: c, keepsTrace: true)
        } else {
            precondition(!readOutLayer, "read-out rows need separate sequences")
            readOut = nil
        }
        normed = Tensor(zeros: [n, c.width])
        gradA = Tensor(zeros: [n, c.width]); gradB = Tensor(zeros: [n, c.width])
        gradQKV = Tensor(zeros: [n, 3 * c.width])
        gradHidden = Tensor(zeros: [n, c.mlpWidth])
    }

    public convenience init(batch: Int, tokens: Int, configuration c: TowerConfiguration, readOut rows: [Int]? = nil) {
        self.init(layout: .separate(batch: batch, tokens: tokens), configuration: c, readOut: rows)
    }

    /// Floats held, for memory reports.
    public var floatCount: Int {
        layers.reduce(0) { sum, l in
            sum + [l.input, l.ln1Mean, l.ln1Rstd, l.qkv, l.probs, l.attention, l.middle, l.ln2Mean, l.ln2Rstd,
                   l.ln2Out, l.preActivation, l.activation].reduce(0) { $0 + $1.count }
        } + (readOut?.floatCount ?? 0)
            + normed.count + gradA.count + gradB.count + gradQKV.count + gradHidden.count
    }
}

extension TransformerStack {
    /// Training forward: the same computation as `forward`, keeping what `backward` needs in `trace`.
    func forward(_ x: UnsafeMutablePointer<Float>, causal: Bool, trace: TransformerTrace) {
        let c = configuration, n = trace.layout.rows
        for (layer, saved) in zip(layers, trace.layers) {
            saved.input.pointer.update(from: x, count: n * c.width)
            LayerNorm.forward(out: trace.normed.pointer, mean: saved.ln1Mean.pointer, rstd: saved.ln1Rstd.pointer, inp: x,
                              weight: layer.ln1Weight.pointer, bias: layer.ln1Bias.pointer,
                              rows: n, channels: c.width, eps: c.layerNormEps)
            Linear.forward(out: saved.qkv.pointer, inp: trace.normed.pointer, weight: layer.float32.qkv.pointer,
                           bias: layer.qkvBias.pointer, rows: n, inFeatures: c.width, outFeatures: 3 * c.width)
            trace.layout.attentionForward(out: saved.attention.pointer, probs: saved.probs.pointer, qkv: saved.qkv.pointer,
                                          channels: c.width, heads: c.heads, causal: causal)
            Linear.forward(out: x, inp: saved.attention.pointer, weight: layer.float32.out.pointer, bias: layer.outBias.pointer,
                           rows: n, inFeatures: c.width, outFeatures: c.width, accumulate: true)
            saved.middle.pointer.update(from: x, count: n * c.width)
            LayerNorm.forward(out: saved.ln2Out.pointer, mean: saved.ln2Mean.pointer, rstd: saved.ln2Rstd.pointer, inp: x,
                              weight: layer.ln2Weight.pointer, bias: layer.ln2Bias.pointer,
                              rows: n, channels: c.width, eps: c.layerNormEps)
            Linear.forward(out: saved.preActivation.pointer, inp: saved.ln2Out.pointer, weight: layer.float32.fc1.pointer,
                           bias: layer.fc1Bias.pointer, rows: n, inFeatures: c.width, outFeatures: c.mlpWidth)
            c.activation.forward(out: saved.activation.pointer, inp: saved.preActivation.pointer, count: n * c.mlpWidth)
            Linear.forward(out: x, inp: saved.activation.pointer, weight: layer.float32.fc2.pointer, bias: layer.fc2Bias.pointer,
                           rows: n, inFeatures: c.mlpWidth, outFeatures: c.width, accumulate: true)
        }
        if let saved = trace.readOut {
            forwardReadOut(layers[layers.count - 1], x, causal: causal, readOut: saved, normed: trace.normed.pointer, packed: false)
        }
    }

    /// Backward of `forwardReadOut`. dx [N, C] holds the gradient at the read-out rows (zero
    /// elsewhere, as nothing else is read) and becomes the gradient entering the layer.
    private func backwardReadOut(_ layer: TransformerLayer, _ dx: UnsafeMutablePointer<Float>,
                                 saved r: ReadOutLayer, trace: TransformerTrace) {
        let c = configuration, w = c.width, f = c.mlpWidth, batch = r.rows.count, tokens = r.tokens
        let n = batch * tokens
        // The residual stream's gradient at the read-out rows; it becomes ∂L/∂middle.
        let dMiddle = Tensor(zeros: [batch, w])
        for (b, row) in r.rows.enumerated() {
            (dMiddle.pointer + b * w).update(from: dx + (b * tokens + row) * w, count: w)
        }
        // MLP: output = middle + fc2(act(fc1(ln2(middle)))).
        let dActivation = Tensor(zeros: [batch, f]), dPre = Tensor(zeros: [batch, f]), dRows = Tensor(zeros: [batch, w])
        Linear.backward(dinp: dActivation.pointer, dweight: nil, dbias: nil, dout: dMiddle.pointer, inp: r.activation.pointer,
                        weight: layer.float32.fc2.pointer, rows: batch, inFeatures: f, outFeatures: w)
        c.activation.backward(dinp: dPre.pointer, dout: dActivation.pointer, inp: r.preActivation.pointer, count: batch * f)
        Linear.backward(dinp: dRows.pointer, dweight: nil, dbias: nil, dout: dPre.pointer, inp: r.ln2Out.pointer,
                        weight: layer.float32.fc1.pointer, rows: batch, inFeatures: w, outFeatures: f)
        LayerNorm.backward(dinp: dMiddle.pointer, dweight: nil, dbias: nil, dout: dRows.pointer, inp: r.middle.pointer,
                           weight: layer.ln2Weight.pointer, mean: r.ln2Mean!.pointer, rstd: r.ln2Rstd!.pointer,
                           rows: batch, channels: w)
        // Attention: middle = input(rows) + out_proj(attention(q(rows), k, v of every token)).
        let dAttention = Tensor(zeros: [batch, w]), dq = Tensor(zeros: [batch, w])
        Linear.backward(dinp: dAttention.pointer, dweight: nil, dbias: nil, dout: dMiddle.pointer, inp: r.attention.pointer,
                        weight: layer.float32.out.pointer, rows: batch, inFeatures: w, outFeatures: w)
        let dkv = trace.gradQKV.pointer   // [N, 2C] in the [N, 3C] buffer
        dkv.update(repeating: 0, count: n * 2 * w)
        Attention.backwardOneQuery(dq: dq.pointer, dkv: dkv, dout: dAttention.pointer, q: r.q.pointer, kv: r.kv.pointer,
                                   probs: r.probs!.pointer, keys: r.keys,
                                   batch: batch, tokens: tokens, channels: w, heads: c.heads)
        // Through the projections into LN1's output: every row from k and v, the read-out rows also from q.
        let dNormed = trace.gradA.pointer
        dNormed.update(repeating: 0, count: n * w)
        Linear.backward(dinp: dNormed, dweight: nil, dbias: nil, dout: dkv, inp: r.input!.pointer,
                        weight: layer.float32.qkv.pointer + w * w, rows: n, inFeatures: w, outFeatures: 2 * w)
        dRows.pointer.update(repeating: 0, count: batch * w)
        Linear.backward(dinp: dRows.pointer, dweight: nil, dbias: nil, dout: dq.pointer, inp: r.normedRows.pointer,
                        weight: layer.float32.qkv.pointer, rows: batch, inFeatures: w, outFeatures: w)
        for (b, row) in r.rows.enumerated() {
            let target = dNormed + (b * tokens + row) * w, source = dRows.pointer + b * w
            for i in 0..<w { target[i] += source[i] }
            // The residual path: ∂L/∂input at a read-out row is ∂L/∂middle there.
            (dx + (b * tokens + row) * w).update(from: dMiddle.pointer + b * w, count: w)
        }
        LayerNorm.backward(dinp: dx, dweight: nil, dbias: nil, dout: dNormed, inp: r.input!.pointer,
                           weight: layer.ln1Weight.pointer, mean: r.ln1Mean!.pointer, rstd: r.ln1Rstd!.pointer,
                           rows: n, channels: w)
    }

    /// Backward: `dx` holds ∂L/∂(output residual stream) [N, C] and is replaced by ∂L/∂(input).
    /// The same calls as the forward in reverse order, input gradients only (frozen weights).
    func backward(_ dx: UnsafeMutablePointer<Float>, trace: TransformerTrace) {
        let c = configuration, n = trace.layout.rows
        if let saved = trace.readOut {
            backwardReadOut(layers[layers.count - 1], dx, saved: saved, trace: trace)
        }
        let dNormed = trace.gradA.pointer
        for (layer, saved) in zip(layers, trace.layers).reversed() {
            // x3 = x2 + fc2(act(fc1(ln2(x2)))): dx flows through unchanged, plus the MLP branch.
            let dHidden = trace.gradHidden.pointer
            dHidden.update(repeating: 0, count: n * c.mlpWidth)
            Linear.backward(dinp: dHidden, dweight: nil, dbias: nil, dout: dx, inp: saved.activation.pointer,
                            weight: layer.float32.fc2.pointer, rows: n, inFeatures: c.mlpWidth, outFeatures: c.width)
            // d(pre-activation) = act′ ⊙ d(activation), written over a second buffer.
            let dPre = saved.activation.pointer   // the activation values are not needed any more
            dPre.update(repeating: 0, count: n * c.mlpWidth)
            c.activation.backward(dinp: dPre, dout: dHidden, inp: saved.preActivation.pointer, count: n * c.mlpWidth)
            dNormed.update(repeating: 0, count: n * c.width)
            Linear.backward(dinp: dNormed, dweight: nil, dbias: nil, dout: dPre, inp: saved.ln2Out.pointer,
                            weight: layer.float32.fc1.pointer, rows: n, inFeatures: c.width, outFeatures: c.mlpWidth)
            LayerNorm.backward(dinp: dx, dweight: nil, dbias: nil, dout: dNormed, inp: saved.middle.pointer,
                               weight: layer.ln2Weight.pointer, mean: saved.ln2Mean.pointer, rstd: saved.ln2Rstd.pointer,
                               rows: n, channels: c.width)
            // x2 = x + out_proj(attention(qkv(ln1(x)))).
            let dAttention = trace.gradB.pointer
            dAttention.update(repeating: 0, count: n * c.width)
            Linear.backward(dinp: dAttention, dweight: nil, dbias: nil, dout: dx, inp: saved.attention.pointer,
                            weight: layer.float32.out.pointer, rows: n, inFeatures: c.width, outFeatures: c.width)
            let dQKV = trace.gradQKV.pointer
            dQKV.update(repeating: 0, count: n * 3 * c.width)
            trace.layout.attentionBackward(dqkv: dQKV, dout: dAttention, qkv: saved.qkv.pointer,
                                           probs: saved.probs.pointer, channels: c.width, heads: c.heads)
            dNormed.update(repeating: 0, count: n * c.width)
            Linear.backward(dinp: dNormed, dweight: nil, dbias: nil, dout: dQKV, inp: trace.normed.pointer,
                            weight: layer.float32.qkv.pointer, rows: n, inFeatures: c.width, outFeatures: 3 * c.width)
            LayerNorm.backward(dinp: dx, dweight: nil, dbias: nil, dout: dNormed, inp: saved.input.pointer,
                               weight: layer.ln1Weight.pointer, mean: saved.ln1Mean.pointer, rstd: saved.ln1Rstd.pointer,
                               rows: n, channels: c.width)
        }
    }
}
