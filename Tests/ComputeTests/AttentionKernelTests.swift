import CAttention
import Foundation
import Testing
@testable import Compute

/// The engine's attention kernel (`CAttention`), each variant this CPU runs, against a Double
/// reference, and `Attention.forward` through it against the OpenBLAS path it replaces.
@Suite("Attention kernel")
struct AttentionKernelTests {
    typealias Head = @Sendable (UnsafeMutablePointer<Float>, Int, UnsafeMutablePointer<Float>, UnsafePointer<Float>,
                                UnsafePointer<Float>, UnsafePointer<Float>, Int, Int, Int, Float, Bool,
                                UnsafeMutablePointer<Float>) -> Void

    struct Variant: Sendable, CustomStringConvertible {
        let description: String
        let head: Head
    }

    /// The variants this CPU has.
    static var variants: [Variant] {
        var found: [Variant] = []
        #if arch(x86_64)
        if tt_attention_cpu_supports("avx2") {
            found.append(Variant(description: "avx2") { tt_attention_head_avx2($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) })
        }
        if tt_attention_cpu_supports("avx512") {
            found.append(Variant(description: "avx512") { tt_attention_head_avx512($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) })
        }
        #endif
        return found
    }

    /// (tokens, head width, causal): ViT-B/32 and B/16, the text tower, heads narrower than a
    /// vector or not a multiple of one, rows that leave a partial block, a single token.
    static let shapes: [(Int, Int, Bool)] = [(50, 64, false), (197, 64, false), (77, 64, true), (50, 64, true),
                                              (7, 8, true), (5, 24, false), (13, 40, false), (64, 32, true), (1, 64, false)]

    @Test(arguments: variants)
    func matchesADoubleReference(_ variant: Variant) throws {
        for (t, hd, causal) in Self.shapes {
            let heads = 3, c = heads * hd, ld = 3 * c, h = 1
            var rng = SplitMix64(seed: UInt64(t * 1000 + hd))
            let qkv = (0..<(t * ld)).map { _ in 2 * rng.nextGaussian() }
            let scale = 1 / Float(hd).squareRoot()
            var out = [Float](repeating: .nan, count: t * c)
            var probs = [Float](repeating: .nan, count: t * t)
            var scratch = [Float](repeating: .nan, count: tt_attention_scratch_floats(t, hd))
            qkv.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    probs.withUnsafeMutableBufferPointer { p in
                        scratch.withUnsafeMutableBufferPointer { s in
                            let q = x.baseAddress! + h * hd
                            variant.head(o.baseAddress! + h * hd, c, p.baseAddress!, q, q + c, q + 2 * c, ld, t, hd,
                                         scale, causal, s.baseAddress!)
                        }
                    }
                }
            }
            var worstOut = 0.0, worstProb = 0.0
            for i in 0..<t {
                let keys = causal ? i + 1 : t
                let scores = (0..<keys).map { j in
                    Double(scale) * (0..<hd).reduce(0.0) { $0 + Double(qkv[i * ld + h * hd + $1]) * Double(qkv[j * ld + c + h * hd + $1]) }
                }
                let top = scores.max()!
                let weights = scores.map { Foundation.exp($0 - top) }
                let total = weights.reduce(0, +)
                for j in 0..<t {
                    if j >= keys {
                        #expect(probs[i * t + j] == 0, "t \(t) hd \(hd): probs[\(i), \(j)] is masked")
                    } else {
                        worstProb = max(worstProb, abs(Double(probs[i * t + j]) - weights[j] / total))
                    }
                }
                for d in 0..<hd {
                    let expected = (0..<keys).reduce(0.0) { $0 + weights[$1] / total * Double(qkv[$1 * ld + 2 * c + h * hd + d]) }
                    worstOut = max(worstOut, abs(Double(out[i * c + h * hd + d]) - expected) / max(1, abs(expected)))
                }
                // The other heads' columns are not touched.
                #expect(out[i * c].isNaN && out[i * c + 2 * hd].isNaN)
            }
            #expect(worstOut < 1e-5, "t \(t) hd \(hd) causal \(causal): output error \(worstOut)")
            #expect(worstProb < 1e-5, "t \(t) hd \(hd) causal \(causal): probability error \(worstProb)")
        }
    }

    /// `Attention.forward` through the kernel and through OpenBLAS, on a batch: the same within
    /// float rounding; and each sequence gives the same bits alone as in the batch.
    @Test(arguments: [false, true])
    func forwardMatchesOpenBLASAndIsBatchInvariant(causal: Bool) throws {
        let (b, t, c, heads) = (3, 50, 256, 4)
        var rng = SplitMix64(seed: causal ? 7 : 8)
        let qkv = Tensor((0..<(b * t * 3 * c)).map { _ in rng.nextGaussian() }, shape: [b, t, 3 * c])
        func run(_ kernel: Bool, batch: Int, from: Int) -> [Float] {
            let out = Tensor(zeros: [batch, t, c]), probs = Tensor(zeros: [batch, heads, t, t])
            Attention.forward(out: out.pointer, probs: probs.pointer, qkv: qkv.pointer + from * t * 3 * c,
                              batch: batch, tokens: t, channels: c, heads: heads, causal: causal, kernel: kernel)
            return Array(UnsafeBufferPointer(start: out.pointer, count: batch * t * c))
        }
        let kernel = run(true, batch: b, from: 0), blas = run(false, batch: b, from: 0)
        let worst = zip(kernel, blas).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(worst < 1e-5, "kernel against OpenBLAS: \(worst)")
        for s in 0..<b {
            #expect(run(true, batch: 1, from: s) == Array(kernel[(s * t * c)..<((s + 1) * t * c)]), "sequence \(s) alone")
        }
    }
}
