import Compute

/// The last layer of a tower when only one row per sequence is read afterwards (ViT's class token,
/// the text's EOT): keys and values for every token, since the read-out rows attend to them, and the
/// query, attention, output projection and MLP for those B rows alone. Exact; it skips 10 of the
/// layer's 12 GEMM units, about 7% of a 12-layer tower.
///
/// Holds that layer's buffers. With `keepsTrace` (prompt tuning) it also keeps what the backward
/// (`TransformerStack.backwardReadOut`) needs; N = batch·tokens, C = width, F = MLP width, H = heads.
final class ReadOutLayer {
    let rows: [Int]          // the read-out token of each sequence
    let tokens: Int          // T, the sequence length
    var keys: [Int] = []     // how many tokens each read-out row attended to (set by the forward)
    let input: Tensor?       // [N, C]  residual stream entering the layer (kept for the backward)
    let ln1Mean: Tensor?, ln1Rstd: Tensor?   // [N]
    let kv: Tensor           // [N, 2C] keys and values of every token (may be a larger caller's buffer)
    let normedRows: Tensor   // [B, C]  LN1 at the read-out rows (the query's input)
    let q: Tensor            // [B, C]
    let probs: Tensor?       // [B, H, T]
    let attention: Tensor    // [B, C]
    let middle: Tensor       // [B, C]  after the attention block (LN2's input)
    let ln2Mean: Tensor?, ln2Rstd: Tensor?   // [B]
    let ln2Out: Tensor       // [B, C]
    let preActivation: Tensor, activation: Tensor   // [B, F]
    let output: Tensor       // [B, C]  the layer's output at the read-out rows

    init(rows: [Int], batch: Int, tokens: Int, configuration c: TowerConfiguration, keepsTrace: Bool, kv: Tensor? = nil) {
        precondition(rows.count == batch && rows.allSatisfy { (0..<tokens).contains($0) }, "read-out rows out of range")
        let (n, w) = (batch * tokens, c.width)
        precondition(kv.map { $0.count >= n * 2 * w } ?? true, "the key/value buffer is too small")
        func kept(_ shape: [Int]) -> Tensor? { keepsTrace ? Tensor(zeros: shape) : nil }
        self.rows = rows
        self.tokens = tokens
        input = kept([n, w])
        ln1Mean = kept([n]); ln1Rstd = kept([n])
        self.kv = kv ?? Tensor(zeros: [n, 2 * w])
        normedRows = Tensor(zeros: [batch, w]); q = Tensor(zeros: [batch, w])
        probs = kept([batch, c.heads, tokens])
        attention = Tensor(zeros: [batch, w]); middle = Tensor(zeros: [batch, w])
        ln2Mean = kept([batch]); ln2Rstd = kept([batch])
        ln2Out = Tensor(zeros: [batch, w])
        preActivation = Tensor(zeros: [batch, c.mlpWidth]); activation = Tensor(zeros: [batch, c.mlpWidth])
        output = Tensor(zeros: [batch, w])
    }

    /// Floats held (for the trace's memory reports).
    var floatCount: Int {
        [input, ln1Mean, ln1Rstd, kv, normedRows, q, probs, attention, middle, ln2Mean, ln2Rstd, ln2Out,
         preActivation, activation, output].reduce(0) { $0 + ($1?.count ?? 0) }
    }
}

extension TransformerStack {
    /// Runs `layer` for the read-out rows of x [B, T, C] and writes their new state back into x;
    /// the other rows keep the stream entering the layer. `normed` is scratch for LN1 of every row [N, C].
    /// `packed: false` keeps to the float32 matrices (the training forward, whose backward uses them).
    func forwardReadOut(_ layer: TransformerLayer, _ x: UnsafeMutablePointer<Float>, causal: Bool,
                        readOut r: ReadOutLayer, normed: UnsafeMutablePointer<Float>, packed: Bool = true) {
        let c = configuration, w = c.width, batch = r.rows.count, tokens = r.tokens
        let n = batch * tokens
        r.keys = r.rows.map { causal ? $0 + 1 : tokens }
        r.input?.pointer.update(from: x, count: n * w)
        LayerNorm.forward(out: normed, mean: r.ln1Mean?.pointer, rstd: r.ln1Rstd?.pointer, inp: x,
                          weight: layer.ln1Weight.pointer, bias: layer.ln1Bias.pointer, rows: n, channels: w, eps: c.layerNormEps)
        // Keys and values of every token: rows C..<3C of the fused qkv weight.
        layer.project(packed: packed, .kv, out: r.kv.pointer, inp: normed, rows: n)
        for (b, row) in r.rows.enumerated() {
            (r.normedRows.pointer + b * w).update(from: normed + (b * tokens + row) * w, count: w)
            (r.middle.pointer + b * w).update(from: x + (b * tokens + row) * w, count: w)
        }
        layer.project(packed: packed, .q, out: r.q.pointer, inp: r.normedRows.pointer, rows: batch)
        Attention.forwardOneQuery(out: r.attention.pointer, probs: r.probs?.pointer, q: r.q.pointer, kv: r.kv.pointer,
                                  keys: r.keys, batch: batch, tokens: tokens, channels: w, heads: c.heads)
        layer.project(packed: packed, .out, out: r.middle.pointer, inp: r.attention.pointer, rows: batch, accumulate: true)
        LayerNorm.forward(out: r.ln2Out.pointer, mean: r.ln2Mean?.pointer, rstd: r.ln2Rstd?.pointer, inp: r.middle.pointer,
                          weight: layer.ln2Weight.pointer, bias: layer.ln2Bias.pointer, rows: batch, channels: w, eps: c.layerNormEps)
        layer.project(packed: packed, .fc1, out: r.preActivation.pointer, inp: r.ln2Out.pointer, rows: batch)
        c.activation.forward(out: r.activation.pointer, inp: r.preActivation.pointer, count: batch * c.mlpWidth)
        r.output.pointer.update(from: r.middle.pointer, count: batch * w)
        layer.project(packed: packed, .fc2, out: r.output.pointer, inp: r.activation.pointer, rows: batch, accumulate: true)
        for (b, row) in r.rows.enumerated() {
            (x + (b * tokens + row) * w).update(from: r.output.pointer + b * w, count: w)
        }
    }
}
