import Compute

/// The activations one training forward of a transformer stack keeps for its backward pass,
/// per layer, for a fixed batch and sequence length (llm.c's "activations" struct).
/// Only gradients with respect to the input are computed later (the encoder is frozen),
/// so nothing is kept for weight gradients beyond what the input gradient needs.
public final class TransformerTrace {
    public let batch: Int, tokens: Int
    let configuration: TowerConfiguration

    /// One layer's saved tensors. Shapes: N = batch·tokens, C = width, F = MLP width, H = heads.
    final class Layer {
        let input: Tensor        // [N, C]  residual stream entering the layer (LN1's input)
        let ln1Mean: Tensor, ln1Rstd: Tensor   // [N]
        let qkv: Tensor          // [N, 3C]
        let probs: Tensor        // [B, H, T, T]
        let attention: Tensor    // [N, C]  attention output before out_proj
        let middle: Tensor       // [N, C]  residual stream after the attention block (LN2's input)
        let ln2Mean: Tensor, ln2Rstd: Tensor   // [N]
        let ln2Out: Tensor       // [N, C]
        let preActivation: Tensor  // [N, F]  fc1 output
        let activation: Tensor   // [N, F]  act(fc1 output)

        init(n: Int, batch: Int, tokens: Int, c: TowerConfiguration) {
            input = Tensor(zeros: [n, c.width])
            ln1Mean = Tensor(zeros: [n]); ln1Rstd = Tensor(zeros: [n])
            qkv = Tensor(zeros: [n, 3 * c.width])
            probs = Tensor(zeros: [batch, c.heads, tokens, tokens])
            attention = Tensor(zeros: [n, c.width])
            middle = Tensor(zeros: [n, c.width])
            ln2Mean = Tensor(zeros: [n]); ln2Rstd = Tensor(zeros: [n])
            ln2Out = Tensor(zeros: [n, c.width])
            preActivation = Tensor(zeros: [n, c.mlpWidth])
            activation = Tensor(zeros: [n, c.mlpWidth])
        }
    }
    let layers: [Layer]
    /// Scratch buffers reused by every layer's forward and backward.
    let normed: Tensor           // [N, C]
    let gradA: Tensor, gradB: Tensor   // [N, C]
    let gradQKV: Tensor          // [N, 3C]
    let gradHidden: Tensor       // [N, F]

    public init(batch: Int, tokens: Int, configuration c: TowerConfiguration) {
        self.batch = batch
        self.tokens = tokens
        configuration = c
        let n = batch * tokens
        layers = (0..<c.layers).map { _ in Layer(n: n, batch: batch, tokens: tokens, c: c) }
        normed = Tensor(zeros: [n, c.width])
        gradA = Tensor(zeros: [n, c.width]); gradB = Tensor(zeros: [n, c.width])
        gradQKV = Tensor(zeros: [n, 3 * c.width])
        gradHidden = Tensor(zeros: [n, c.mlpWidth])
    }

    /// Floats held, for memory reports.
    public var floatCount: Int {
        layers.reduce(0) { sum, l in
            sum + [l.input, l.ln1Mean, l.ln1Rstd, l.qkv, l.probs, l.attention, l.middle, l.ln2Mean, l.ln2Rstd,
                   l.ln2Out, l.preActivation, l.activation].reduce(0) { $0 + $1.count }
        } + normed.count + gradA.count + gradB.count + gradQKV.count + gradHidden.count
    }
}

extension TransformerStack {
    /// Training forward: the same computation as `forward`, keeping what `backward` needs in `trace`.
    func forward(_ x: UnsafeMutablePointer<Float>, causal: Bool, trace: TransformerTrace) {
        let c = configuration, batch = trace.batch, tokens = trace.tokens
        let n = batch * tokens
        for (layer, saved) in zip(layers, trace.layers) {
            saved.input.pointer.update(from: x, count: n * c.width)
            LayerNorm.forward(out: trace.normed.pointer, mean: saved.ln1Mean.pointer, rstd: saved.ln1Rstd.pointer, inp: x,
                              weight: layer.ln1Weight.pointer, bias: layer.ln1Bias.pointer,
                              rows: n, channels: c.width, eps: c.layerNormEps)
            Linear.forward(out: saved.qkv.pointer, inp: trace.normed.pointer, weight: layer.qkvWeight.pointer,
                           bias: layer.qkvBias.pointer, rows: n, inFeatures: c.width, outFeatures: 3 * c.width)
            Attention.forward(out: saved.attention.pointer, probs: saved.probs.pointer, qkv: saved.qkv.pointer,
                              batch: batch, tokens: tokens, channels: c.width, heads: c.heads, causal: causal)
            Linear.forward(out: x, inp: saved.attention.pointer, weight: layer.outWeight.pointer, bias: layer.outBias.pointer,
                           rows: n, inFeatures: c.width, outFeatures: c.width, accumulate: true)
            saved.middle.pointer.update(from: x, count: n * c.width)
            LayerNorm.forward(out: saved.ln2Out.pointer, mean: saved.ln2Mean.pointer, rstd: saved.ln2Rstd.pointer, inp: x,
                              weight: layer.ln2Weight.pointer, bias: layer.ln2Bias.pointer,
                              rows: n, channels: c.width, eps: c.layerNormEps)
            Linear.forward(out: saved.preActivation.pointer, inp: saved.ln2Out.pointer, weight: layer.fc1Weight.pointer,
                           bias: layer.fc1Bias.pointer, rows: n, inFeatures: c.width, outFeatures: c.mlpWidth)
            c.activation.forward(out: saved.activation.pointer, inp: saved.preActivation.pointer, count: n * c.mlpWidth)
            Linear.forward(out: x, inp: saved.activation.pointer, weight: layer.fc2Weight.pointer, bias: layer.fc2Bias.pointer,
                           rows: n, inFeatures: c.mlpWidth, outFeatures: c.width, accumulate: true)
        }
    }

    /// Backward: `dx` holds ∂L/∂(output residual stream) [N, C] and is replaced by ∂L/∂(input).
    /// The same calls as the forward in reverse order, input gradients only (frozen weights).
    func backward(_ dx: UnsafeMutablePointer<Float>, trace: TransformerTrace) {
        let c = configuration, batch = trace.batch, tokens = trace.tokens
        let n = batch * tokens
        let dNormed = trace.gradA.pointer
        for (layer, saved) in zip(layers, trace.layers).reversed() {
            // x3 = x2 + fc2(act(fc1(ln2(x2)))): dx flows through unchanged, plus the MLP branch.
            let dHidden = trace.gradHidden.pointer
            dHidden.update(repeating: 0, count: n * c.mlpWidth)
            Linear.backward(dinp: dHidden, dweight: nil, dbias: nil, dout: dx, inp: saved.activation.pointer,
                            weight: layer.fc2Weight.pointer, rows: n, inFeatures: c.mlpWidth, outFeatures: c.width)
            // d(pre-activation) = act′ ⊙ d(activation), written over a second buffer.
            let dPre = saved.activation.pointer   // the activation values are not needed any more
            dPre.update(repeating: 0, count: n * c.mlpWidth)
            c.activation.backward(dinp: dPre, dout: dHidden, inp: saved.preActivation.pointer, count: n * c.mlpWidth)
            dNormed.update(repeating: 0, count: n * c.width)
            Linear.backward(dinp: dNormed, dweight: nil, dbias: nil, dout: dPre, inp: saved.ln2Out.pointer,
                            weight: layer.fc1Weight.pointer, rows: n, inFeatures: c.width, outFeatures: c.mlpWidth)
            LayerNorm.backward(dinp: dx, dweight: nil, dbias: nil, dout: dNormed, inp: saved.middle.pointer,
                               weight: layer.ln2Weight.pointer, mean: saved.ln2Mean.pointer, rstd: saved.ln2Rstd.pointer,
                               rows: n, channels: c.width)
            // x2 = x + out_proj(attention(qkv(ln1(x)))).
            let dAttention = trace.gradB.pointer
            dAttention.update(repeating: 0, count: n * c.width)
            Linear.backward(dinp: dAttention, dweight: nil, dbias: nil, dout: dx, inp: saved.attention.pointer,
                            weight: layer.outWeight.pointer, rows: n, inFeatures: c.width, outFeatures: c.width)
            let dQKV = trace.gradQKV.pointer
            dQKV.update(repeating: 0, count: n * 3 * c.width)
            Attention.backward(dqkv: dQKV, dout: dAttention, qkv: saved.qkv.pointer,
                               probs: saved.probs.pointer, batch: batch, tokens: tokens, channels: c.width, heads: c.heads)
            dNormed.update(repeating: 0, count: n * c.width)
            Linear.backward(dinp: dNormed, dweight: nil, dbias: nil, dout: dQKV, inp: trace.normed.pointer,
                            weight: layer.qkvWeight.pointer, rows: n, inFeatures: c.width, outFeatures: 3 * c.width)
            LayerNorm.backward(dinp: dx, dweight: nil, dbias: nil, dout: dNormed, inp: saved.input.pointer,
                               weight: layer.ln1Weight.pointer, mean: saved.ln1Mean.pointer, rstd: saved.ln1Rstd.pointer,
                               rows: n, channels: c.width)
        }
    }
}
