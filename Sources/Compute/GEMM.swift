import CBLAS

/// Row-major single-precision GEMM through OpenBLAS:
/// C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C, where op transposes when asked.
/// Leading dimensions are those of the matrices as stored (row-major).
@inlinable
public func gemm(
    transA: Bool, transB: Bool,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor,
        transA ? CblasTrans : CblasNoTrans,
        transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k),
        alpha, a, Int32(lda), b, Int32(ldb),
        beta, c, Int32(ldc))
}

/// What the linked BLAS is and how many threads it uses (reported by `/info` and `bench`).
public enum BLAS {
    /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var configuration: String {
        guard let raw = openblas_get_config() else { return "unknown" }
        return String(cString: raw)
    }

    /// The number of threads OpenBLAS runs a GEMM on.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses for every later call.
    public static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
}
