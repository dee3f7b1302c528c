import Foundation
import Synchronization
import Testing
import CPanelGEMM
@testable import Compute

/// out = inp · Wᵀ + b (+ out) in Double: what a packed product is checked against.
private func reference(_ inp: [Float], _ w: [Float], _ bias: [Float]?, start: [Float]?, m: Int, n: Int, k: Int,
                       rows: Range<Int>) -> [Double] {
    var out = [Double](repeating: 0, count: m * rows.count)
    for i in 0..<m {
        for (j, row) in rows.enumerated() {
            var s = Double(bias?[row] ?? 0) + Double(start?[i * rows.count + j] ?? 0)
            for p in 0..<k { s += Double(inp[i * k + p]) * Double(w[row * k + p]) }
            out[i * rows.count + j] = s
        }
    }
    return out
}

@Suite("Weights packed for oneDNN's matmul")
struct PackedWeightTests {
    /// Every route a product can take: oneDNN's kernel (few rows, K ≥ 768) and OpenBLAS on the same
    /// packed memory (many rows, or K = 512) where the layout is plain; one slice or several (the
    /// slices are run by the workers); on a blocked layout, the whole width on shares of the rows
    /// (130 and 197 rows, 197 in unequal shares); with and without bias; writing or accumulating.
    /// And the engine's own panels (AVX-512), on the same shapes.
    @Test(arguments: [1, 3, 50, 130, 197], [512, 768])
    func matchesTheProductInDouble(rows m: Int, inFeatures k: Int) throws {
        for kernel in PackedWeight.Kernel.allCases { try matchesTheProductInDouble(rows: m, inFeatures: k, kernel: kernel) }
    }

    func matchesTheProductInDouble(rows m: Int, inFeatures k: Int, kernel: PackedWeight.Kernel) throws {
        let n = 320
        var rng = SplitMix64(seed: UInt64(m * 1000 + k))
        let w = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let inp = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let bias = (0..<n).map { _ in rng.nextFloat() - 0.5 }
        let start = (0..<(m * n)).map { _ in rng.nextFloat() - 0.5 }
        for workers in [1, 3] {
            let packed = try w.withUnsafeBufferPointer {
                try PackedWeight($0.baseAddress!, outFeatures: n, inFeatures: k, precision: .f32, workers: workers, kernel: kernel)
            }
            #expect(packed.panels != nil || packed.slices.count == (workers == 1 ? 1 : 3))
            #expect((packed.panels != nil) == (kernel == .panels && tt_panel_gemm_supported()))
            for (withBias, accumulate) in [(true, false), (false, true), (true, true)] {
                var out = accumulate ? start : [Float](repeating: .nan, count: m * n)
                inp.withUnsafeBufferPointer { ip in bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                    packed.forward(out: op.baseAddress!, inp: ip.baseAddress!, rows: m,
                                   bias: withBias ? bp.baseAddress! : nil, accumulate: accumulate)
                } } }
                let expected = reference(inp, w, withBias ? bias : nil, start: accumulate ? start : nil, m: m, n: n, k: k, rows: 0..<n)
                let worst = zip(out, expected).map { abs(Double($0) - $1) }.max()!
                #expect(worst < 1e-4, "\(kernel), rows \(m), K \(k), \(workers) workers, bias \(withBias), accumulate \(accumulate): max error \(worst)")
            }
        }
    }

    /// The MLP's activation applied by the product as it writes (a oneDNN post-op; after OpenBLAS on
    /// a plain layout) is the activation of the product: on column slices (3 and 50 rows) and on the
    /// whole width split by rows (197), for both activations.
    @Test(arguments: [Activation.quickGELU, .gelu], [3, 50, 197])
    func activationIsAppliedAsTheProductIsWritten(activation: Activation, rows m: Int) throws {
        for kernel in PackedWeight.Kernel.allCases { try activationIsAppliedAsTheProductIsWritten(activation: activation, rows: m, kernel: kernel) }
    }

    func activationIsAppliedAsTheProductIsWritten(activation: Activation, rows m: Int, kernel: PackedWeight.Kernel) throws {
        let (n, k) = (384, 768)
        var rng = SplitMix64(seed: UInt64(m))
        let w = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let inp = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let bias = (0..<n).map { _ in rng.nextFloat() - 0.5 }
        let packed = try w.withUnsafeBufferPointer {
            try PackedWeight($0.baseAddress!, outFeatures: n, inFeatures: k, precision: .f32, workers: 2, kernel: kernel)
        }
        var out = [Float](repeating: .nan, count: m * n)
        inp.withUnsafeBufferPointer { ip in bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
            packed.forward(out: op.baseAddress!, inp: ip.baseAddress!, rows: m, bias: bp.baseAddress!, activation: activation)
        } } }
        let expected = reference(inp, w, bias, start: nil, m: m, n: n, k: k, rows: 0..<n).map { x in
            switch activation {
            case .quickGELU: x / (1 + exp(-1.702 * x))
            case .gelu: 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
            }
        }
        let worst = zip(out, expected).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 1e-4, "\(activation), rows \(m), \(kernel): max error \(worst)")
        #expect(expected.contains { $0 < -0.1 } && expected.contains { $0 > 1 }, "the test must cover both sides of the activation")
    }

    /// The parts of a fused weight are multiplied alone (the read-out layer's query, and its keys
    /// and values): each writes its own columns from column 0, with its own bias entries, into an
    /// output with a wider row stride; a range that cuts a part is refused.
    @Test(arguments: PackedWeight.Kernel.allCases)
    func partsAreMultipliedAlone(kernel: PackedWeight.Kernel) throws {
        let (w, k, m) = (128, 96, 5)
        var rng = SplitMix64(seed: 3)
        let weight = (0..<(3 * w * k)).map { _ in rng.nextFloat() - 0.5 }
        let inp = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let bias = (0..<(3 * w)).map { _ in rng.nextFloat() - 0.5 }
        let packed = try weight.withUnsafeBufferPointer {
            try PackedWeight($0.baseAddress!, outFeatures: 3 * w, inFeatures: k, precision: .f32,
                             parts: [0..<w, w..<3 * w], workers: 2, kernel: kernel)
        }
        #expect(packed.slices.allSatisfy { $0.rows.upperBound <= w || $0.rows.lowerBound >= w }, "a slice crosses the parts")
        for rows in [0..<w, w..<3 * w, 0..<3 * w] {
            let ldc = 3 * w + 7
            var out = [Float](repeating: 0, count: m * ldc)
            inp.withUnsafeBufferPointer { ip in bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                packed.forward(out: op.baseAddress!, ldc: ldc, inp: ip.baseAddress!, rows: m, bias: bp.baseAddress!, outputs: rows)
            } } }
            let expected = reference(inp, weight, bias, start: nil, m: m, n: 3 * w, k: k, rows: rows)
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<rows.count { worst = max(worst, abs(Double(out[i * ldc + j]) - expected[i * rows.count + j])) }
                for j in rows.count..<ldc { #expect(out[i * ldc + j] == 0, "column \(j) of row \(i) was written") }
            }
            #expect(worst < 1e-4, "rows \(rows): max error \(worst)")
        }
    }

    /// On a blocked layout the weight is packed once: the slices and parts are views of it, and the
    /// bytes are the whole's, not counted again per view. A plain layout is packed slice by slice.
    @Test func blockedWeightsArePackedOnceAndViewed() throws {
        let (n, k) = (3 * 128, 256)
        var rng = SplitMix64(seed: 11)
        let w = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let packed = try w.withUnsafeBufferPointer {
            try PackedWeight($0.baseAddress!, outFeatures: n, inFeatures: k, precision: .f32, parts: [0..<128, 128..<n], workers: 2,
                             kernel: .oneDNN)
        }
        if packed.slices[0].plain != nil {
            #expect(packed.fullWidth.isEmpty && packed.slices.allSatisfy { $0.owner == nil })
            return
        }
        #expect(Set(packed.fullWidth.keys) == [0..<n, 0..<128, 128..<n])
        #expect(packed.slices.allSatisfy { $0.owner === packed.fullWidth[0..<n] })
        #expect(packed.bytes >= n * k * 4 && packed.bytes <= n * k * 4 * 11 / 10, "\(packed.bytes) bytes for \(n * k * 4) of weights")
        // Without parts the one part is the whole weight, and its bytes are still counted (they were
        // not: the part's view, which holds none, had replaced the whole).
        let single = try w.withUnsafeBufferPointer {
            try PackedWeight($0.baseAddress!, outFeatures: n, inFeatures: k, precision: .f32, workers: 2, kernel: .oneDNN)
        }
        #expect(single.fullWidth[0..<n]?.owner == nil && single.bytes == packed.bytes, "\(single.bytes) bytes")
    }

    /// Workers share one packed weight, each with its own row counts, so the weight's cache of
    /// oneDNN primitives grows while others run theirs. Every product must still be right. (The
    /// cache handed out pointers into itself; a worker could read an entry after another had moved
    /// the cache, and a stale scratchpad size let oneDNN write past the scratchpad: heap corruption
    /// in a ViT-B/32 benchmark.)
    @Test(arguments: PackedWeight.Kernel.allCases)
    func concurrentProductsOfManyShapesAreRight(kernel: PackedWeight.Kernel) throws {
        let (n, k) = (192, 64)
        var rng = SplitMix64(seed: 13)
        let w = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let inp = (0..<(160 * k)).map { _ in rng.nextFloat() - 0.5 }
        let packed = try w.withUnsafeBufferPointer {
            try PackedWeight($0.baseAddress!, outFeatures: n, inFeatures: k, precision: .f32, workers: 1, kernel: kernel)
        }
        let expected = reference(inp, w, nil, start: nil, m: 160, n: n, k: k, rows: 0..<n)
        let threads = 8
        let worst = Mutex([Double](repeating: 0, count: threads))
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            // Row counts 1 + thread, 1 + thread + 8, …: every thread its own, 160 in all.
            for m in stride(from: 1 + thread, through: 160, by: threads) {
                var out = [Float](repeating: .nan, count: m * n)
                inp.withUnsafeBufferPointer { ip in out.withUnsafeMutableBufferPointer { op in
                    packed.forwardOnThisThread(out: op.baseAddress!, inp: ip.baseAddress!, rows: m, bias: nil)
                } }
                let error = zip(out, expected.prefix(m * n)).map { abs(Double($0) - $1) }.max()!
                worst.withLock { $0[thread] = max($0[thread], error.isNaN ? .infinity : error) }
            }
        }
        let errors = worst.withLock { $0 }
        #expect(errors.allSatisfy { $0 < 1e-4 }, "max error per thread: \(errors)")
    }

    /// The panels on shapes the models do not have: widths that end inside a panel (masked loads and
    /// stores), one step of K, every row count of a partial block, strided input and output, and a
    /// range of outputs from a panel edge; the columns around the range stay untouched.
    @Test func panelsHandleEveryEdge() throws {
        try #require(tt_panel_gemm_supported(), "the panels need AVX-512")
        for (n, k) in [(1, 1), (100, 7), (130, 33), (192, 64)] {
            var rng = SplitMix64(seed: UInt64(n * 100 + k))
            let w = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
            let bias = (0..<n).map { _ in rng.nextFloat() - 0.5 }
            let packed = try w.withUnsafeBufferPointer {
                try PackedWeight($0.baseAddress!, outFeatures: n, inFeatures: k, precision: .f32, parts: n > 64 ? [0..<64, 64..<n] : nil,
                                 kernel: .panels)
            }
            #expect(packed.panels != nil && packed.bytes == (n + 63) / 64 * 64 * k * 4)
            for m in [1, 2, 3, 4, 5, 6, 7, 11, 13] {
                let (lda, ldc) = (k + 3, n + 5)
                let inp = (0..<(m * lda)).map { _ in rng.nextFloat() - 0.5 }
                let dense = (0..<m).flatMap { r in inp[(r * lda)..<(r * lda + k)] }
                for outputs in n > 64 ? [0..<n, 64..<n, 0..<64] : [0..<n] {
                    for accumulate in [false, true] {
                        let start = (0..<(m * ldc)).map { _ in rng.nextFloat() - 0.5 }
                        var out = start
                        inp.withUnsafeBufferPointer { ip in bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                            packed.forward(out: op.baseAddress!, ldc: ldc, inp: ip.baseAddress!, lda: lda, rows: m,
                                           bias: bp.baseAddress!, outputs: outputs, accumulate: accumulate)
                        } } }
                        let expected = reference(dense, w, bias, start: nil, m: m, n: n, k: k, rows: outputs)
                        var worst = 0.0
                        for r in 0..<m {
                            for j in 0..<ldc {
                                let got = out[r * ldc + j]
                                if j < outputs.count {
                                    let want = expected[r * outputs.count + j] + (accumulate ? Double(start[r * ldc + j]) : 0)
                                    worst = max(worst, abs(Double(got) - want))
                                } else {
                                    #expect(got == start[r * ldc + j], "n \(n) k \(k) rows \(m): column \(j) of row \(r) was written")
                                }
                            }
                        }
                        #expect(worst < 1e-5, "n \(n), k \(k), rows \(m), outputs \(outputs), accumulate \(accumulate): max error \(worst)")
                    }
                }
            }
        }
    }

    /// A row of a product on the panels has the same bits alone, in a batch split by rows over the
    /// workers, or in one split by panels: each output is summed in one order.
    @Test func panelRowsHaveTheSameBitsAloneAndInABatch() throws {
        try #require(tt_panel_gemm_supported(), "the panels need AVX-512")
        let (n, k, m) = (768, 768, 197)
        var rng = SplitMix64(seed: 21)
        let w = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let inp = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let bias = (0..<n).map { _ in rng.nextFloat() - 0.5 }
        let packed = try w.withUnsafeBufferPointer {
            try PackedWeight($0.baseAddress!, outFeatures: n, inFeatures: k, precision: .f32, kernel: .panels)
        }
        func product(rows: Range<Int>) -> [Float] {
            var out = [Float](repeating: .nan, count: rows.count * n)
            inp.withUnsafeBufferPointer { ip in bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                packed.forward(out: op.baseAddress!, inp: ip.baseAddress! + rows.lowerBound * k, rows: rows.count,
                               bias: bp.baseAddress!, activation: .quickGELU)
            } } }
            return out
        }
        let batch = product(rows: 0..<m)      // split by rows
        let fifty = product(rows: 0..<50)     // split by panels
        #expect(Array(batch[0..<(50 * n)]) == fifty)
        for r in [0, 1, 49, 100, 196] {
            #expect(product(rows: r..<(r + 1)) == Array(batch[(r * n)..<((r + 1) * n)]), "row \(r)")
        }
    }

    /// Slices follow the workers, stay on multiples of 64 and at most 1,152 wide, and cover the part.
    @Test func slicesCoverThePartInBlocks() {
        for (count, workers, expected) in [(3072, 2, 4), (2304, 2, 2), (768, 2, 2), (768, 1, 1), (100, 4, 1), (512, 16, 8), (3072, 1, 3)] {
            let slices = PackedWeight.split(10..<(10 + count), workers: workers)
            #expect(slices.count == expected, "\(count) rows over \(workers) workers: \(slices)")
            #expect(slices.first?.lowerBound == 10 && slices.last?.upperBound == 10 + count)
            #expect(zip(slices, slices.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            #expect(slices.dropLast().allSatisfy { ($0.upperBound - 10) % 64 == 0 })
            #expect(slices.count == 1 || slices.allSatisfy { $0.count <= PackedWeight.widestSlice })
        }
    }

    /// bf16 packs only where oneDNN has kernels for it (AVX-512 and up). Elsewhere the refusal names
    /// the instruction set; where it packs, products stay within bf16's rounding of float32 ones.
    @Test func bf16IsRefusedByNameOrCloseToFloat32() throws {
        let (n, k, m) = (256, 768, 50)
        var rng = SplitMix64(seed: 5)
        let w = (0..<(n * k)).map { _ in (rng.nextFloat() - 0.5) * 0.1 }
        let inp = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        if let reason = PackedWeight.unsupportedReason(.bf16) {
            #expect(!OneDNN.hasNativeBF16)
            #expect(reason.contains("bf16") && reason.contains(OneDNN.isa), "\(reason)")
            return
        }
        let packed = try w.withUnsafeBufferPointer { try PackedWeight($0.baseAddress!, outFeatures: n, inFeatures: k, precision: .bf16) }
        #expect(packed.bytes <= n * k * 2 * 11 / 10, "bf16 weights hold \(packed.bytes) bytes, float32 ones \(n * k * 4)")
        var out = [Float](repeating: 0, count: m * n)
        inp.withUnsafeBufferPointer { ip in out.withUnsafeMutableBufferPointer { op in
            packed.forward(out: op.baseAddress!, inp: ip.baseAddress!, rows: m, bias: nil)
        } }
        let expected = reference(inp, w, nil, start: nil, m: m, n: n, k: k, rows: 0..<n)
        for i in 0..<m {
            let row = out[(i * n)..<((i + 1) * n)].map(Double.init), exact = expected[(i * n)..<((i + 1) * n)]
            let dot = zip(row, exact).map { $0 * $1 }.reduce(0, +)
            let cosine = dot / (row.map { $0 * $0 }.reduce(0, +).squareRoot() * exact.map { $0 * $0 }.reduce(0, +).squareRoot())
            #expect(cosine >= 0.999, "row \(i): cosine \(cosine) to the float32 product")
        }
    }
}
