import Testing
@testable import Compute

/// Naive triple loop in Double: the reference the BLAS product is checked against.
private func naiveProduct(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * m + i] : a[i * k + p]
                let bv = transB ? b[j * k + p] : b[p * n + j]
                s += Double(av) * Double(bv)
            }
            c[i * n + j] = s
        }
    }
    return c
}

@Suite("GEMM through OpenBLAS")
struct GEMMTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matchesNaiveProduct(transA: Bool, transB: Bool) {
        let (m, n, k) = (37, 29, 53)
        var rng = SplitMix64(seed: 7)
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextFloat() - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                         a: ap.baseAddress!, lda: transA ? m : k,
                         b: bp.baseAddress!, ldb: transB ? k : n,
                         c: cp.baseAddress!, ldc: n)
                }
            }
        }
        let reference = naiveProduct(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
        let maxError = zip(c, reference).map { abs(Double($0) - $1) }.max()!
        #expect(maxError < 1e-5, "max |BLAS − naive| = \(maxError)")
    }

    @Test func betaAccumulates() {
        // C = A·B + 1·C: the accumulate form that backward passes rely on.
        let a: [Float] = [1, 2, 3, 4]          // 2×2
        let b: [Float] = [5, 6, 7, 8]          // 2×2
        var c: [Float] = [1, 1, 1, 1]
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            gemm(transA: false, transB: false, m: 2, n: 2, k: 2, a: ap.baseAddress!, lda: 2, b: bp.baseAddress!, ldb: 2,
                 beta: 1, c: cp.baseAddress!, ldc: 2)
        } } }
        #expect(c == [20, 23, 44, 51])
    }

    @Test func reportsOpenBLAS() {
        #expect(BLAS.configuration.contains("OpenBLAS"))
        #expect(BLAS.threads >= 1)
    }
}
