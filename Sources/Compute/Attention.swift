import CAttention

/// Multi-head scaled dot-product attention on a fused projection, without the projections.
///
/// qkv [B, T, 3C]: for head h, q is at column h·hd, k at C + h·hd, v at 2C + h·hd (hd = C / H),
/// the layout of open_clip's `in_proj` and of HF's q, k, v weights stacked.
/// out [B, T, C], head h at column h·hd. probs [B, H, T, T] keeps the attention weights for backward.
/// Each (b, h) pair is one task for the workers: the engine's own kernel (`CAttention`, AVX2 or
/// AVX-512) where the CPU has one, else two strided OpenBLAS GEMMs around the softmax rows.
public enum Attention {

    /// The kernel the forward runs: "avx512", "avx2", or "openblas" on CPUs without AVX2.
    public static var implementation: String {
        let variant = String(cString: tt_attention_variant())
        return variant == "none" ? "openblas" : variant
    }

    @inlinable
    public static func forward(
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
        qkv: UnsafePointer<Float>,
        batch: Int, tokens t: Int, channels c: Int, heads: Int, causal: Bool
    ) {
        forward(out: out, probs: probs, qkv: qkv, batch: batch, tokens: t, channels: c, heads: heads,
                causal: causal, kernel: true)
    }

    /// `forward`, through the kernel where the CPU has one (`kernel`) or through OpenBLAS always:
    /// tests compare the two.
    @inlinable
    static func forward(
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
        qkv: UnsafePointer<Float>,
        batch: Int, tokens t: Int, channels c: Int, heads: Int, causal: Bool, kernel: Bool
    ) {
        let hd = c / heads
        let scale = 1 / Float(hd).squareRoot()
        // One (b, h) pair per task: its two products and its softmax rows touch only its own
        // columns of out and its own block of probs.
        Parallel.forRanges(count: batch * heads, workPerItem: 4 * t * t * hd) { pairs in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tt_attention_scratch_floats(t, hd))
            defer { scratch.deallocate() }
            for pair in pairs {
                let (b, h) = pair.quotientAndRemainder(dividingBy: heads)
                let q = qkv + b * t * 3 * c + h * hd
                let p = probs + pair * t * t
                let o = out + b * t * c + h * hd
                if kernel && tt_attention_head(o, c, p, q, q + c, q + 2 * c, 3 * c, t, hd, scale, causal, scratch) {
                    continue
                }
                gemmOnThisThread(transA: false, transB: true, m: t, n: t, k: hd, alpha: scale,
                                 a: q, lda: 3 * c, b: q + c, ldb: 3 * c, c: p, ldc: t)
                for i in 0..<t {
                    Softmax.forwardRow(p + i * t, length: causal ? i + 1 : t, width: t)
                }
                gemmOnThisThread(transA: false, transB: false, m: t, n: hd, k: t,
                                 a: p, lda: t, b: q + 2 * c, ldb: 3 * c, c: o, ldc: c)
            }
        }
    }

    /// Attention of one query per sequence: the last layer of a tower whose output is read at one
    /// token only (ViT's class token, the text's EOT) needs no other query. Exact, and inference only.
    /// q [B, C]; kv [B, T, 2C] with head h's k at column h·hd and its v at C + h·hd; out [B, C].
    /// Sequence b attends to its first `keys[b]` tokens (all T, or up to the query under a causal mask).
    /// probs [B, H, T], when given, keeps each query's attention row for `backwardOneQuery`.
    @inlinable
    public static func forwardOneQuery(
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>? = nil,
        q: UnsafePointer<Float>, kv: UnsafePointer<Float>,
        keys: [Int], batch: Int, tokens t: Int, channels c: Int, heads: Int
    ) {
        let hd = c / heads
        let scale = 1 / Float(hd).squareRoot()
        Parallel.forRanges(count: batch * heads, workPerItem: 4 * t * hd) { pairs in
            let scratch = probs == nil ? UnsafeMutablePointer<Float>.allocate(capacity: t) : nil
            defer { scratch?.deallocate() }
            for pair in pairs {
                let (b, h) = pair.quotientAndRemainder(dividingBy: heads)
                let n = keys[b]
                let scores = probs.map { $0 + pair * t } ?? scratch!
                let k = kv + b * t * 2 * c + h * hd
                gemmOnThisThread(transA: false, transB: true, m: 1, n: n, k: hd, alpha: scale,
                                 a: q + b * c + h * hd, lda: c, b: k, ldb: 2 * c, c: scores, ldc: n)
                Softmax.forwardRow(scores, length: n, width: n)
                gemmOnThisThread(transA: false, transB: false, m: 1, n: hd, k: n,
                                 a: scores, lda: n, b: k + c, ldb: 2 * c, c: out + b * c + h * hd, ldc: c)
            }
        }
    }

    /// Gradients of `forwardOneQuery`: dq [B, C] and dkv [B, T, 2C] are accumulated into, from
    /// dout [B, C] and the probabilities the forward kept in probs [B, H, T] (the first keys[b] of
    /// each row are used). Per (b, h), with P the query's attention row over the keys:
    /// dV_j += P_j·dO;  dP_j = dO·V_j;  dS = P ⊙ (dP − Σ dP⊙P);  dq += scale·dS·K;  dK_j += scale·dS_j·q.
    @inlinable
    public static func backwardOneQuery(
        dq: UnsafeMutablePointer<Float>, dkv: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, q: UnsafePointer<Float>, kv: UnsafePointer<Float>, probs: UnsafePointer<Float>,
        keys: [Int], batch: Int, tokens t: Int, channels c: Int, heads: Int
    ) {
        let hd = c / heads
        let scale = 1 / Float(hd).squareRoot()
        Parallel.forRanges(count: batch * heads, workPerItem: 8 * t * hd) { pairs in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: t)   // dP, then dS
            defer { scratch.deallocate() }
            for pair in pairs {
                let (b, h) = pair.quotientAndRemainder(dividingBy: heads)
                let n = keys[b]
                let offset = b * t * 2 * c + h * hd
                let (k, v, dk, dv) = (kv + offset, kv + offset + c, dkv + offset, dkv + offset + c)
                let p = probs + pair * t
                let dO = dout + b * c + h * hd
                // dV[n, hd] += Pᵀ[n, 1] · dO[1, hd]
                gemmOnThisThread(transA: true, transB: false, m: n, n: hd, k: 1,
                                 a: p, lda: n, b: dO, ldb: hd, beta: 1, c: dv, ldc: 2 * c)
                // dP[1, n] = dO · Vᵀ, then through the softmax
                gemmOnThisThread(transA: false, transB: true, m: 1, n: n, k: hd,
                                 a: dO, lda: hd, b: v, ldb: 2 * c, c: scratch, ldc: n)
                Softmax.backwardRowInPlace(scratch, probabilities: p, width: n)
                // dq[1, hd] += scale · dS · K;  dK[n, hd] += scale · dSᵀ · q
                gemmOnThisThread(transA: false, transB: false, m: 1, n: hd, k: n, alpha: scale,
                                 a: scratch, lda: n, b: k, ldb: 2 * c, beta: 1, c: dq + b * c + h * hd, ldc: hd)
                gemmOnThisThread(transA: true, transB: false, m: n, n: hd, k: 1, alpha: scale,
                                 a: scratch, lda: n, b: q + b * c + h * hd, ldb: hd, beta: 1, c: dk, ldc: 2 * c)
            }
        }
    }

    /// dqkv += gradients with respect to q, k and v, from dout [B, T, C] and the stored probs.
    @inlinable
    public static func backward(
        dqkv: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, probs: UnsafePointer<Float>,
        batch: Int, tokens t: Int, channels c: Int, heads: Int
    ) {
        let hd = c / heads
        let scale = 1 / Float(hd).squareRoot()
        Parallel.forRanges(count: batch * heads, workPerItem: 8 * t * t * hd) { pairs in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: t * t)   // dP, then dS
            defer { scratch.deallocate() }
            for pair in pairs {
                let (b, h) = pair.quotientAndRemainder(dividingBy: heads)
                let offset = b * t * 3 * c + h * hd
                let (q, k, v) = (qkv + offset, qkv + offset + c, qkv + offset + 2 * c)
                let (dq, dk, dv) = (dqkv + offset, dqkv + offset + c, dqkv + offset + 2 * c)
                let p = probs + pair * t * t
                let dO = dout + b * t * c + h * hd
                // dV += Pᵀ · dO
                gemmOnThisThread(transA: true, transB: false, m: t, n: hd, k: t,
                                 a: p, lda: t, b: dO, ldb: c, beta: 1, c: dv, ldc: 3 * c)
                // dP = dO · Vᵀ, then through the softmax: dS = P ⊙ (dP − rowsum(dP ⊙ P))
                gemmOnThisThread(transA: false, transB: true, m: t, n: t, k: hd,
                                 a: dO, lda: c, b: v, ldb: 3 * c, c: scratch, ldc: t)
                for i in 0..<t {
                    Softmax.backwardRowInPlace(scratch + i * t, probabilities: p + i * t, width: t)
                }
                // dQ += scale · dS · K;  dK += scale · dSᵀ · Q
                gemmOnThisThread(transA: false, transB: false, m: t, n: hd, k: t, alpha: scale,
                                 a: scratch, lda: t, b: k, ldb: 3 * c, beta: 1, c: dq, ldc: 3 * c)
                gemmOnThisThread(transA: true, transB: false, m: t, n: hd, k: t, alpha: scale,
                                 a: scratch, lda: t, b: q, ldb: 3 * c, beta: 1, c: dk, ldc: 3 * c)
            }
        }
    }
}
