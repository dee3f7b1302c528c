import CElementwise
import Foundation
import Testing
@testable import Compute

/// The C element-wise kernels (GELU variants, softmax rows) against Double references from libm,
/// in both builds: the baseline one and, where the CPU has AVX2 + FMA, the AVX2 one.
@Suite("Element-wise kernels")
struct ElementwiseKernelTests {
    struct Variant: Sendable, CustomStringConvertible {
        let description: String
        let quickGELU: @Sendable (UnsafeMutablePointer<Float>, Int) -> Void
        let quickGELUBackward: @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Void
        let gelu: @Sendable (UnsafeMutablePointer<Float>, Int) -> Void
        let geluBackward: @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Void
        let softmax: @Sendable (UnsafeMutablePointer<Float>, Int, Int) -> Void
    }

    static let portable = Variant(
        description: "portable",
        quickGELU: { tt_quick_gelu_forward_portable($0, $1) },
        quickGELUBackward: { tt_quick_gelu_backward_portable($0, $1, $2, $3) },
        gelu: { tt_gelu_forward_portable($0, $1) },
        geluBackward: { tt_gelu_backward_portable($0, $1, $2, $3) },
        softmax: { tt_softmax_row_portable($0, $1, $2) })

    /// The variants this machine can run (AVX2 only where the CPU has it, as the dispatch decides).
    static var variants: [Variant] {
        #if arch(x86_64)
        if tt_elementwise_uses_avx2() {
            return [portable, Variant(
                description: "avx2",
                quickGELU: { tt_quick_gelu_forward_avx2($0, $1) },
                quickGELUBackward: { tt_quick_gelu_backward_avx2($0, $1, $2, $3) },
                gelu: { tt_gelu_forward_avx2($0, $1) },
                geluBackward: { tt_gelu_backward_avx2($0, $1, $2, $3) },
                softmax: { tt_softmax_row_avx2($0, $1, $2) })]
        }
        #endif
        return [portable]
    }

    /// Inputs from −12 to 12 plus the clamped extremes; 1,001 values, so the vector loops' tails run too.
    static let inputs: [Float] = (0...998).map { Float($0 - 499) * 0.024_05 } + [-100, 100]

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// max |got − expected| / max(1, |expected|).
    static func worstError(_ got: [Float], _ expected: [Double]) -> Double {
        zip(got, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
    }

    @Test(arguments: variants)
    func activationsMatchLibm(_ v: Variant) {
        var q = Self.inputs, g = Self.inputs
        q.withUnsafeMutableBufferPointer { v.quickGELU($0.baseAddress!, $0.count) }
        g.withUnsafeMutableBufferPointer { v.gelu($0.baseAddress!, $0.count) }
        let xs = Self.inputs.map(Double.init)
        let worstQuick = Self.worstError(q, xs.map { x in x * Self.sigmoid(1.702 * x) })
        let worstGELU = Self.worstError(g, xs.map { x in 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) })
        #expect(worstQuick < 1e-6, "\(v): quick_gelu error \(worstQuick)")
        #expect(worstGELU < 1e-6, "\(v): gelu error \(worstGELU)")
    }

    @Test(arguments: variants)
    func activationGradientsMatchLibmAndAccumulate(_ v: Variant) {
        let dout = Self.inputs.indices.map { Float($0 % 7) - 3 }
        var dq = [Float](repeating: 0.5, count: Self.inputs.count), dg = dq
        dq.withUnsafeMutableBufferPointer { v.quickGELUBackward($0.baseAddress!, dout, Self.inputs, $0.count) }
        dg.withUnsafeMutableBufferPointer { v.geluBackward($0.baseAddress!, dout, Self.inputs, $0.count) }
        let xs = Self.inputs.map(Double.init)
        let worstQuick = Self.worstError(dq, xs.indices.map { i in
            let (x, s) = (xs[i], Self.sigmoid(1.702 * xs[i]))
            return 0.5 + Double(dout[i]) * (s + 1.702 * x * s * (1 - s))
        })
        let worstGELU = Self.worstError(dg, xs.indices.map { i in
            let x = xs[i]
            return 0.5 + Double(dout[i]) * (0.5 * (1 + Foundation.erf(x / 2.0.squareRoot()))
                                            + x * Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot())
        })
        #expect(worstQuick < 2e-6, "\(v): quick_gelu gradient error \(worstQuick)")
        #expect(worstGELU < 2e-6, "\(v): gelu gradient error \(worstGELU)")
    }

    @Test(arguments: variants)
    func softmaxRowsMatchLibmAndZeroTheMaskedTail(_ v: Variant) {
        for (length, width) in [(1, 1), (7, 9), (197, 197), (50, 77)] {
            var row = (0..<width).map { Float(($0 * 37) % 23) * 0.7 - 8 }
            let input = row.map(Double.init)
            row.withUnsafeMutableBufferPointer { v.softmax($0.baseAddress!, length, width) }
            let maximum = input[..<length].max()!
            let exps = input[..<length].map { Foundation.exp($0 - maximum) }
            let sum = exps.reduce(0, +)
            let worst = (0..<length).map { abs(Double(row[$0]) - exps[$0] / sum) }.max()!
            #expect(worst < 1e-6, "\(v) \(length)/\(width): error \(worst)")
            #expect(row[length...].allSatisfy { $0 == 0 }, "\(v): masked entries are zero")
        }
    }

    /// Both builds agree closely (FMA contraction changes only the last bits). Needs an AVX2 CPU.
    @Test(.enabled(if: variants.count == 2, "this CPU has no AVX2 + FMA: only the portable build runs"))
    func variantsAgree() {
        let all = Self.variants
        var a = Self.inputs, b = Self.inputs
        a.withUnsafeMutableBufferPointer { all[0].gelu($0.baseAddress!, $0.count) }
        b.withUnsafeMutableBufferPointer { all[1].gelu($0.baseAddress!, $0.count) }
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) })
    }
}
