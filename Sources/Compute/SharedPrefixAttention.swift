/// Causal multi-head attention over S sequences that all begin with the same P tokens, packed as
/// rows [prefix (P) | suffix of sequence 0 (L) | … | suffix of sequence S−1 (L)], N = P + S·L.
///
/// Prompt tuning with one context shared by every class runs C prompts "[SOT] ctx₁…ctx_M name. [EOT]"
/// whose first M + 1 rows are the same in every layer: under a causal mask they never see what
/// follows. Computing them once instead of C times is exact and cuts the rows of the text tower
/// from C·T to P + C·L (about 4× on the demo's 20 classes, more with more classes).
///
/// qkv [N, 3C] in `Attention`'s column layout; out [N, C]. probs keeps the prefix's [H, P, P]
/// (`Attention` over one sequence of P rows), then per head the suffix rows' [S·L, P + L] block (P
/// prefix columns, then the row's own sequence's L columns). Suffix row j of a sequence attends to
/// the whole prefix and to rows 0…j of its own suffix; rows past a sequence's end are padding,
/// never read by anything before them. For the suffix rows each head is one task: every write of
/// a head touches only its own columns and probs block.
public enum SharedPrefixAttention {

    /// Floats of `probs` for one forward.
    public static func probsCount(prefix p: Int, sequences s: Int, suffix l: Int, heads: Int) -> Int {
        heads * (p * p + s * l * (p + l))
    }

    @inlinable
    public static func forward(
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
        prefix p: Int, sequences s: Int, suffix l: Int, channels c: Int, heads: Int
    ) {
        // The prefix: ordinary causal attention over its P rows.
        Attention.forward(out: out, probs: probs, qkv: qkv, batch: 1, tokens: p, channels: c, heads: heads, causal: true)
        let hd = c / heads, scale = 1 / Float(hd).squareRoot()
        let rows = s * l, width = p + l
        guard rows > 0 else { return }
        Parallel.forRanges(count: heads, workPerItem: 4 * hd * rows * width) { range in
            for h in range {
                let q = qkv + h * hd, k = q + c, v = q + 2 * c   // row r of each at + r·3C
                let suffixProbs = probs + heads * p * p + h * rows * width
                // Every suffix row against the prefix's keys at once, then each sequence against its own.
                let qs = q + p * 3 * c
                gemmOnThisThread(transA: false, transB: true, m: rows, n: p, k: hd, alpha: scale,
                                 a: qs, lda: 3 * c, b: k, ldb: 3 * c, c: suffixProbs, ldc: width)
                for i in 0..<s {
                    let own = (p + i * l) * 3 * c
                    gemmOnThisThread(transA: false, transB: true, m: l, n: l, k: hd, alpha: scale,
                                     a: q + own, lda: 3 * c, b: k + own, ldb: 3 * c,
                                     c: suffixProbs + i * l * width + p, ldc: width)
                }
                for r in 0..<rows { Softmax.forwardRow(suffixProbs + r * width, length: p + r % l + 1, width: width) }
                let os = out + p * c + h * hd
                gemmOnThisThread(transA: false, transB: false, m: rows, n: hd, k: p,
                                 a: suffixProbs, lda: width, b: v, ldb: 3 * c, c: os, ldc: c)
                for i in 0..<s {
                    gemmOnThisThread(transA: false, transB: false, m: l, n: hd, k: l,
                                     a: suffixProbs + i * l * width + p, lda: width, b: v + (p + i * l) * 3 * c, ldb: 3 * c,
                                     beta: 1, c: os + i * l * c, ldc: c)
                }
            }
        }
    }

    /// dqkv += the gradients with respect to q, k and v from dout [N, C] and the forward's probs.
    /// The prefix's own block is `Attention.backward`; its keys and values then collect the gradient
    /// of every sequence's suffix rows, with one product per head over all of them (no sum across tasks). Same rules as `Attention.backward`:
    /// dV += Pᵀ·dO;  dP = dO·Vᵀ;  dS = P ⊙ (dP − rowsum(dP ⊙ P));  dQ += scale·dS·K;  dK += scale·dSᵀ·Q.
    @inlinable
    public static func backward(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, prefix p: Int, sequences s: Int, suffix l: Int, channels c: Int, heads: Int
    ) {
        Attention.backward(dqkv: dqkv, dout: dout, qkv: qkv, probs: probs, batch: 1, tokens: p, channels: c, heads: heads)
        let hd = c / heads, scale = 1 / Float(hd).squareRoot()
        let rows = s * l, width = p + l
        guard rows > 0 else { return }
        Parallel.forRanges(count: heads, workPerItem: 8 * hd * rows * width) { range in
            let dSuffix = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)   // dP, then dS
            defer { dSuffix.deallocate() }
            for h in range {
                let q = qkv + h * hd, k = q + c, v = q + 2 * c
                let dq = dqkv + h * hd, dk = dq + c, dv = dq + 2 * c
                let suffixProbs = probs + heads * p * p + h * rows * width
                // The suffix rows: their prefix columns in one product each, their own per sequence.
                let qs = q + p * 3 * c, dqs = dq + p * 3 * c, dOs = dout + h * hd + p * c
                gemmOnThisThread(transA: true, transB: false, m: p, n: hd, k: rows,
                                 a: suffixProbs, lda: width, b: dOs, ldb: c, beta: 1, c: dv, ldc: 3 * c)
                gemmOnThisThread(transA: false, transB: true, m: rows, n: p, k: hd,
                                 a: dOs, lda: c, b: v, ldb: 3 * c, c: dSuffix, ldc: width)
                for i in 0..<s {
                    let own = (p + i * l) * 3 * c
                    gemmOnThisThread(transA: true, transB: false, m: l, n: hd, k: l,
                                     a: suffixProbs + i * l * width + p, lda: width, b: dOs + i * l * c, ldb: c,
                                     beta: 1, c: dv + own, ldc: 3 * c)
                    gemmOnThisThread(transA: false, transB: true, m: l, n: l, k: hd,
                                     a: dOs + i * l * c, lda: c, b: v + own, ldb: 3 * c,
                                     c: dSuffix + i * l * width + p, ldc: width)
                }
                for r in 0..<rows {
                    Softmax.backwardRowInPlace(dSuffix + r * width, probabilities: suffixProbs + r * width, width: width)
                }
                gemmOnThisThread(transA: false, transB: false, m: rows, n: hd, k: p, alpha: scale,
                                 a: dSuffix, lda: width, b: k, ldb: 3 * c, beta: 1, c: dqs, ldc: 3 * c)
                gemmOnThisThread(transA: true, transB: false, m: p, n: hd, k: rows, alpha: scale,
                                 a: dSuffix, lda: width, b: qs, ldb: 3 * c, beta: 1, c: dk, ldc: 3 * c)
                for i in 0..<s {
                    let own = (p + i * l) * 3 * c
                    let dS = dSuffix + i * l * width + p
                    gemmOnThisThread(transA: false, transB: false, m: l, n: hd, k: l, alpha: scale,
                                     a: dS, lda: width, b: k + own, ldb: 3 * c, beta: 1, c: dq + own, ldc: 3 * c)
                    gemmOnThisThread(transA: true, transB: false, m: l, n: hd, k: l, alpha: scale,
                                     a: dS, lda: width, b: q + own, ldb: 3 * c, beta: 1, c: dk + own, ldc: 3 * c)
                }
            }
        }
    }
}
