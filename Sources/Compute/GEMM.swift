import CBLAS
import Dispatch
import Foundation
import Synchronization

/// Row-major single-precision GEMM through OpenBLAS:
/// C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C, where op transposes when asked.
/// Leading dimensions are those of the matrices as stored (row-major).
///
/// Large products are split over `BLAS.threads` workers along N (or M when it is larger), each
/// running a one-thread `cblas_sgemm` on its slice. OpenBLAS's own threads are switched off:
/// after each call they spin for about 0.1 s (`sched_yield`) and take a core from the
/// element-wise work and the per-head attention products that run between GEMMs, and two
/// concurrent callers (tagging and a tuning job) would oversubscribe the cores. Measured side by
/// side with OpenBLAS's threading, the split is as fast (ViT-B shapes, 2 cores, ±3%).
@inlinable
public func gemm(
    transA: Bool, transB: Bool,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int,
    rowBias: UnsafePointer<Float>? = nil
) {
    precondition(rowBias == nil || beta == 0 || beta == 1, "a row bias needs beta 0 or 1")
    let tasks = min(BLAS.threads, 2 * m * n * k / BLAS.minimumFLOPsPerTask, max(m, n) / 16)
    guard tasks > 1 else {
        gemmSlice(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, rowBias: rowBias)
        return
    }
    // Slice edges on multiples of 16 columns or rows keep every slice's stores aligned alike.
    func edge(_ task: Int, _ size: Int) -> Int { task == tasks ? size : (size * task / tasks) & ~15 }
    if n >= m {
        Parallel.forTasks(tasks) { task in
            let (from, to) = (edge(task, n), edge(task + 1, n))
            gemmSlice(transA: transA, transB: transB, m: m, n: to - from, k: k, alpha: alpha,
                      a: a, lda: lda, b: b + (transB ? from * ldb : from), ldb: ldb,
                      beta: beta, c: c + from, ldc: ldc, rowBias: rowBias.map { $0 + from })
        }
    } else {
        Parallel.forTasks(tasks) { task in
            let (from, to) = (edge(task, m), edge(task + 1, m))
            gemmSlice(transA: transA, transB: transB, m: to - from, n: n, k: k, alpha: alpha,
                      a: a + (transA ? from : from * lda), lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c + from * ldc, ldc: ldc, rowBias: rowBias)
        }
    }
}

/// One worker's part of `gemm`: its rows or columns of C get the bias first (copied when β = 0,
/// added when β = 1), then the product accumulates onto them. One pass over C in the worker that
/// owns it, instead of OpenBLAS's β = 0 clearing pass plus a bias pass on the calling thread.
@inlinable
func gemmSlice(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, rowBias: UnsafePointer<Float>?
) {
    guard let rowBias else {
        gemmOnThisThread(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                         a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    for r in 0..<m {
        let row = c + r * ldc
        if beta == 0 {
            row.update(from: rowBias, count: n)
        } else {
            for j in 0..<n { row[j] += rowBias[j] }
        }
    }
    gemmOnThisThread(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                     a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: c, ldc: ldc)
}

/// The same product on the calling thread only: for callers that already run in parallel
/// (one attention head per worker).
@inlinable
public func gemmOnThisThread(
    transA: Bool, transB: Bool,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    BLAS.useOneOpenBLASThread()
    cblas_sgemm(
        CblasRowMajor,
        transA ? CblasTrans : CblasNoTrans,
        transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k),
        alpha, a, Int32(lda), b, Int32(ldb),
        beta, c, Int32(ldc))
}

/// What the linked BLAS is and how many threads the engine's products use.
public enum BLAS {
    /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var configuration: String {
        guard let raw = openblas_get_config() else { return "unknown" }
        return String(cString: raw)
    }

    /// Workers a large GEMM (and the element-wise work between GEMMs) is split over:
    /// all cores unless set.
    public static var threads: Int { workerCount.load(ordering: .relaxed) }

    /// Sets the number of workers for every later call.
    public static func setThreads(_ count: Int) { workerCount.store(max(1, count), ordering: .relaxed) }

    /// Below this much work (multiply-adds counted twice) a product stays on one thread:
    /// a fork-join costs some microseconds, about what 2 MFLOP take.
    public static let minimumFLOPsPerTask = 4_000_000

    @usableFromInline
    static let workerCount = Atomic<Int>(max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// OpenBLAS starts with one thread per core; the engine splits products itself (see `gemm`).
    @usableFromInline
    static let oneOpenBLASThread: Void = openblas_set_num_threads(1)

    @inlinable
    static func useOneOpenBLASThread() { _ = oneOpenBLASThread }
}
