/// Fully connected layer in PyTorch's layout: weight [N, K] (out × in), bias [N].
///
/// Forward:  out[M, N] = inp[M, K] · weightᵀ + bias   (accumulate: out += …)
/// Backward: dinp[M, K] += dout[M, N] · weight;  dweight[N, K] += doutᵀ · inp;  dbias[N] += Σ_rows dout
/// The encoder is frozen, so callers usually pass nil for dweight and dbias: that skips half the GEMMs.
public enum Linear {
    /// out = inp · Wᵀ + b. With `accumulate`, the product is added to what `out` holds
    /// (how a residual connection is fused into the projection that feeds it).
    @inlinable
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        rows m: Int, inFeatures k: Int, outFeatures n: Int, accumulate: Bool = false
    ) {
        // The bias goes into each worker's slice of `out` just before its product (see gemmSlice).
        gemm(transA: false, transB: true, m: m, n: n, k: k,
             a: inp, lda: k, b: weight, ldb: k, beta: accumulate ? 1 : 0, c: out, ldc: n, rowBias: bias)
    }

    /// Gradients of `forward`: always with respect to the input, and to the weight and bias when
    /// buffers for them are given. All three are accumulated into.
    @inlinable
    public static func backward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows m: Int, inFeatures k: Int, outFeatures n: Int
    ) {
        if let dinp {
            gemm(transA: false, transB: false, m: m, n: k, k: n,
                 a: dout, lda: n, b: weight, ldb: k, beta: 1, c: dinp, ldc: k)
        }
        if let dweight {
            gemm(transA: true, transB: false, m: n, n: k, k: m,
                 a: dout, lda: n, b: inp, ldb: k, beta: 1, c: dweight, ldc: k)
        }
        if let dbias {
            for r in 0..<m {
                let row = dout + r * n
                for j in 0..<n { dbias[j] += row[j] }
            }
        }
    }
}
