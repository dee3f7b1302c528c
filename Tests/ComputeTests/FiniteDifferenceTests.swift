import Testing
@testable import Compute

/// Every backward against central finite differences of its forward, on random inputs:
/// L = Σ y ⊙ r for a fixed random r, so dL/dx is what backward computes with dout = r.
@Suite("Backward by finite differences")
struct FiniteDifferenceTests {
    /// Central differences of `loss` at each input coordinate, in Double from Float forwards.
    static func numericGradient(_ x: [Float], step: Float = 1e-2, loss: ([Float]) -> Double) -> [Float] {
        var grad = [Float](repeating: 0, count: x.count)
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += step
            minus[i] -= step
            grad[i] = Float((loss(plus) - loss(minus)) / Double(2 * step))
        }
        return grad
    }

    static func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.nextGaussian() * scale }
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    @Test func layerNorm() {
        let (rows, c) = (3, 10)
        let x = Self.random(rows * c, seed: 1), w = Self.random(c, seed: 2), b = Self.random(c, seed: 3)
        let r = Self.random(rows * c, seed: 4)
        func forward(_ x: [Float]) -> ([Float], [Float], [Float]) {
            var y = [Float](repeating: 0, count: rows * c), mean = [Float](repeating: 0, count: rows), rstd = mean
            y.withPointer { yp in mean.withPointer { mp in rstd.withPointer { rp in
                LayerNorm.forward(out: yp, mean: mp, rstd: rp, inp: x, weight: w, bias: b, rows: rows, channels: c, eps: 1e-5)
            } } }
            return (y, mean, rstd)
        }
        let (_, mean, rstd) = forward(x)
        var dx = [Float](repeating: 0, count: rows * c)
        dx.withPointer { LayerNorm.backward(dinp: $0, dweight: nil, dbias: nil, dout: r, inp: x, weight: w,
                                            mean: mean, rstd: rstd, rows: rows, channels: c) }
        let numeric = Self.numericGradient(x) { Self.dot(forward($0).0, r) }
        #expect(relativeError(dx, numeric) < 2e-3)
    }

    @Test(arguments: [Activation.quickGELU, .gelu])
    func activation(_ act: Activation) {
        let x = Self.random(40, seed: 5, scale: 2), r = Self.random(40, seed: 6)
        func forward(_ x: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: x.count)
            y.withPointer { act.forward(out: $0, inp: x, count: x.count) }
            return y
        }
        var dx = [Float](repeating: 0, count: x.count)
        dx.withPointer { act.backward(dinp: $0, dout: r, inp: x, count: x.count) }
        let numeric = Self.numericGradient(x, step: 1e-2) { Self.dot(forward($0), r) }
        #expect(relativeError(dx, numeric) < 2e-3)
    }

    @Test(arguments: [true, false])
    func attention(causal: Bool) {
        let (b, t, h, c) = (2, 4, 2, 8)
        let qkv = Self.random(b * t * 3 * c, seed: 7), r = Self.random(b * t * c, seed: 8)
        func forward(_ qkv: [Float]) -> ([Float], [Float]) {
            var y = [Float](repeating: 0, count: b * t * c), p = [Float](repeating: 0, count: b * h * t * t)
            y.withPointer { yp in p.withPointer { pp in
                Attention.forward(out: yp, probs: pp, qkv: qkv, batch: b, tokens: t, channels: c, heads: h, causal: causal)
            } }
            return (y, p)
        }
        let probs = forward(qkv).1
        var d = [Float](repeating: 0, count: qkv.count)
        d.withPointer { dp in
            Attention.backward(dqkv: dp, dout: r, qkv: qkv, probs: probs, batch: b, tokens: t, channels: c, heads: h)
        }
        let numeric = Self.numericGradient(qkv) { Self.dot(forward($0).0, r) }
        #expect(relativeError(d, numeric) < 2e-3)
    }

    @Test(arguments: [true, false])
    func attentionOfOneQueryPerSequence(causal: Bool) {
        // q [B, C] and kv [B, T, 2C] as one input vector, so one numeric gradient covers both.
        let (b, t, h, c) = (2, 5, 2, 8)
        let rows = [3, 0]
        let keys = rows.map { causal ? $0 + 1 : t }
        let input = Self.random(b * c + b * t * 2 * c, seed: 15), r = Self.random(b * c, seed: 16)
        func forward(_ input: [Float]) -> ([Float], [Float]) {
            var y = [Float](repeating: 0, count: b * c), p = [Float](repeating: 0, count: b * h * t)
            input.withUnsafeBufferPointer { all in
                y.withPointer { yp in p.withPointer { pp in
                    Attention.forwardOneQuery(out: yp, probs: pp, q: all.baseAddress!, kv: all.baseAddress! + b * c,
                                              keys: keys, batch: b, tokens: t, channels: c, heads: h)
                } }
            }
            return (y, p)
        }
        let probs = forward(input).1
        var d = [Float](repeating: 0, count: input.count)
        d.withUnsafeMutableBufferPointer { dp in
            input.withUnsafeBufferPointer { all in
                Attention.backwardOneQuery(dq: dp.baseAddress!, dkv: dp.baseAddress! + b * c, dout: r,
                                           q: all.baseAddress!, kv: all.baseAddress! + b * c, probs: probs,
                                           keys: keys, batch: b, tokens: t, channels: c, heads: h)
            }
        }
        let numeric = Self.numericGradient(input) { Self.dot(forward($0).0, r) }
        #expect(relativeError(d, numeric) < 2e-3)
    }

    @Test func linear() {
        let (m, k, n) = (3, 5, 4)
        let x = Self.random(m * k, seed: 9), w = Self.random(n * k, seed: 10), bias = Self.random(n, seed: 11)
        let r = Self.random(m * n, seed: 12)
        func forward(_ x: [Float], _ w: [Float], _ bias: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: m * n)
            y.withPointer { Linear.forward(out: $0, inp: x, weight: w, bias: bias, rows: m, inFeatures: k, outFeatures: n) }
            return y
        }
        var dx = [Float](repeating: 0, count: m * k), dw = [Float](repeating: 0, count: n * k), db = [Float](repeating: 0, count: n)
        dx.withPointer { dxp in dw.withPointer { dwp in db.withPointer { dbp in
            Linear.backward(dinp: dxp, dweight: dwp, dbias: dbp, dout: r, inp: x, weight: w, rows: m, inFeatures: k, outFeatures: n)
        } } }
        #expect(relativeError(dx, Self.numericGradient(x) { Self.dot(forward($0, w, bias), r) }) < 1e-3)
        #expect(relativeError(dw, Self.numericGradient(w) { Self.dot(forward(x, $0, bias), r) }) < 1e-3)
        #expect(relativeError(db, Self.numericGradient(bias) { Self.dot(forward(x, w, $0), r) }) < 1e-3)
    }

    @Test func l2NormalizeAndSoftmax() {
        let (rows, width) = (3, 6)
        let x = Self.random(rows * width, seed: 13), r = Self.random(rows * width, seed: 14)
        func normalize(_ x: [Float]) -> ([Float], [Float]) {
            var y = [Float](repeating: 0, count: x.count), norms = [Float](repeating: 0, count: rows)
            y.withPointer { yp in norms.withPointer { np in L2Normalize.forward(out: yp, norms: np, inp: x, rows: rows, width: width) } }
            return (y, norms)
        }
        let (y, norms) = normalize(x)
        var dx = [Float](repeating: 0, count: x.count)
        dx.withPointer { L2Normalize.backward(dinp: $0, dout: r, out: y, norms: norms, rows: rows, width: width) }
        #expect(relativeError(dx, Self.numericGradient(x) { Self.dot(normalize($0).0, r) }) < 2e-3)

        func softmax(_ x: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: x.count)
            y.withPointer { Softmax.forward(out: $0, inp: x, rows: rows, width: width) }
            return y
        }
        var ds = [Float](repeating: 0, count: x.count)
        ds.withPointer { Softmax.backward(dinp: $0, dout: r, out: softmax(x), rows: rows, width: width) }
        #expect(relativeError(ds, Self.numericGradient(x) { Self.dot(softmax($0), r) }) < 2e-3)
    }
}

import Foundation
