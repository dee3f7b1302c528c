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

    /// Products large enough to be split over workers, along N (n ≥ m) and along M, with uneven
    /// slices (3 workers): each slice must land in its own block of C, with α and β applied once.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func splitProductsMatchNaiveProduct(transA: Bool, transB: Bool) {
        let saved = BLAS.threads
        BLAS.setThreads(3)
        defer { BLAS.setThreads(saved) }
        for (m, n, k) in [(150, 227, 256), (301, 90, 256)] {
            #expect(2 * m * n * k >= 2 * BLAS.minimumFLOPsPerTask, "too small to be split")
            var rng = SplitMix64(seed: 11)
            let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
            let b = (0..<(k * n)).map { _ in rng.nextFloat() - 0.5 }
            let c0 = (0..<(m * n)).map { _ in rng.nextFloat() - 0.5 }
            var c = c0
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                     a: ap.baseAddress!, lda: transA ? m : k, b: bp.baseAddress!, ldb: transB ? k : n,
                     beta: 2, c: cp.baseAddress!, ldc: n)
            } } }
            let product = naiveProduct(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
            let maxError = (0..<(m * n)).map { abs(Double(c[$0]) - (0.5 * product[$0] + 2 * Double(c0[$0]))) }.max()!
            #expect(maxError < 1e-4, "\(m)×\(n)×\(k): max |split − naive| = \(maxError)")
        }
    }

    /// Linear's bias goes into each worker's slice: C = A·Bᵀ + bias (β = 0) or C += A·Bᵀ + bias
    /// (β = 1), split along N, along M, and not split.
    @Test(arguments: [Float(0), 1])
    func rowBiasIsAddedOncePerRow(beta: Float) {
        let saved = BLAS.threads
        BLAS.setThreads(3)
        defer { BLAS.setThreads(saved) }
        for (m, n, k) in [(150, 227, 256), (301, 90, 256), (5, 7, 3)] {
            var rng = SplitMix64(seed: 5)
            let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
            let b = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
            let bias = (0..<n).map { _ in rng.nextFloat() - 0.5 }
            let c0 = (0..<(m * n)).map { _ in rng.nextFloat() - 0.5 }
            var c = c0
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { biasp in
                c.withUnsafeMutableBufferPointer { cp in
                    gemm(transA: false, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k,
                         beta: beta, c: cp.baseAddress!, ldc: n, rowBias: biasp.baseAddress!)
                }
            } } }
            let product = naiveProduct(a, b, m: m, n: n, k: k, transA: false, transB: true)
            let maxError = (0..<(m * n)).map { i in
                abs(Double(c[i]) - (product[i] + Double(bias[i % n]) + Double(beta) * Double(c0[i])))
            }.max()!
            #expect(maxError < 1e-4, "\(m)×\(n)×\(k), β \(beta): max error \(maxError)")
        }
    }

    @Test func rangesCoverEveryItemOnce() {
        for (count, work) in [(0, 1), (1, 1), (7, 100_000), (1000, 64), (1001, 100_000)] {
            let seen = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
            seen.initialize(repeating: 0, count: max(count, 1))
            defer { seen.deallocate() }
            Parallel.forRanges(count: count, workPerItem: work) { range in
                for i in range { seen[i] += 1 }
            }
            #expect((0..<count).allSatisfy { seen[$0] == 1 }, "count \(count)")
        }
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
