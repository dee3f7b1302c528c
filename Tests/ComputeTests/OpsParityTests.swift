import Testing
@testable import Compute

/// Each op's forward and backward against PyTorch autograd (float64 references).
@Suite("Ops against PyTorch")
struct OpsParityTests {
    let f = OpsFixture.shared

    @Test func layerNorm() {
        let x = f["layer_norm.x"], w = f["layer_norm.w"], b = f["layer_norm.b"], dy = f["layer_norm.dy"]
        let (rows, c) = (6, 16)
        var y = [Float](repeating: 0, count: rows * c)
        var mean = [Float](repeating: 0, count: rows), rstd = mean
        var dx = [Float](repeating: 0, count: rows * c), dw = [Float](repeating: 0, count: c), db = dw
        y.withPointer { yp in mean.withPointer { mp in rstd.withPointer { rp in
            LayerNorm.forward(out: yp, mean: mp, rstd: rp, inp: x, weight: w, bias: b, rows: rows, channels: c, eps: 1e-5)
        } } }
        dx.withPointer { dxp in dw.withPointer { dwp in db.withPointer { dbp in
            LayerNorm.backward(dinp: dxp, dweight: dwp, dbias: dbp, dout: dy, inp: x, weight: w,
                               mean: mean, rstd: rstd, rows: rows, channels: c)
        } } }
        #expect(relativeError(y, f["layer_norm.y"]) < 1e-6)
        #expect(relativeError(dx, f["layer_norm.dx"]) < 1e-5)
        #expect(relativeError(dw, f["layer_norm.dw"]) < 1e-5)
        #expect(relativeError(db, f["layer_norm.db"]) < 1e-6)
    }

    @Test(arguments: [Activation.quickGELU, .gelu])
    func activation(_ act: Activation) {
        let key = act == .quickGELU ? "quick_gelu" : "gelu"
        let x = f["\(key).x"], dy = f["\(key).dy"]
        var y = [Float](repeating: 0, count: x.count), dx = y
        y.withPointer { act.forward(out: $0, inp: x, count: x.count) }
        dx.withPointer { act.backward(dinp: $0, dout: dy, inp: x, count: x.count) }
        #expect(relativeError(y, f["\(key).y"]) < 1e-6)
        #expect(relativeError(dx, f["\(key).dx"]) < 1e-6)
    }

    @Test func softmax() {
        let x = f["softmax.x"], dy = f["softmax.dy"]
        let (rows, width) = (f.shape("softmax.x")[0], f.shape("softmax.x")[1])
        var y = [Float](repeating: 0, count: x.count), dx = y
        y.withPointer { Softmax.forward(out: $0, inp: x, rows: rows, width: width) }
        dx.withPointer { Softmax.backward(dinp: $0, dout: dy, out: y, rows: rows, width: width) }
        #expect(relativeError(y, f["softmax.y"]) < 1e-6)
        #expect(relativeError(dx, f["softmax.dx"]) < 1e-5)
    }

    @Test(arguments: [true, false])
    func attention(causal: Bool) {
        let key = causal ? "attention_causal" : "attention_noncausal"
        let (b, t, h, hd) = (2, 5, 2, 8)
        let c = h * hd
        // Pack q, k, v [B, T, H, hd] into the fused [B, T, 3C] layout.
        var qkv = [Float](repeating: 0, count: b * t * 3 * c)
        for (part, name) in ["q", "k", "v"].enumerated() {
            let src = f["\(key).\(name)"]
            for row in 0..<(b * t) {
                for j in 0..<c { qkv[row * 3 * c + part * c + j] = src[row * c + j] }
            }
        }
        var y = [Float](repeating: 0, count: b * t * c)
        var probs = [Float](repeating: 0, count: b * h * t * t)
        y.withPointer { yp in probs.withPointer { pp in
            Attention.forward(out: yp, probs: pp, qkv: qkv, batch: b, tokens: t, channels: c, heads: h, causal: causal)
        } }
        #expect(relativeError(y, f["\(key).y"]) < 1e-5)

        var dqkv = [Float](repeating: 0, count: qkv.count)
        dqkv.withPointer { dp in
            Attention.backward(dqkv: dp, dout: f["\(key).dy"], qkv: qkv, probs: probs,
                               batch: b, tokens: t, channels: c, heads: h)
        }
        for (part, name) in ["q", "k", "v"].enumerated() {
            var grad = [Float](repeating: 0, count: b * t * c)
            for row in 0..<(b * t) {
                for j in 0..<c { grad[row * c + j] = dqkv[row * 3 * c + part * c + j] }
            }
            #expect(relativeError(grad, f["\(key).d\(name)"]) < 1e-5, "d\(name)")
        }
    }

    @Test(arguments: [true, false])
    func attentionOfOneQueryPerSequence(causal: Bool) {
        // The read-out path of a last layer: one query row per sequence against all keys and values
        // (or those up to the query, causally) must give that row of the full attention's output.
        let key = causal ? "attention_causal" : "attention_noncausal"
        let (b, t, h, hd) = (2, 5, 2, 8)
        let c = h * hd
        let (q, k, v) = (f["\(key).q"], f["\(key).k"], f["\(key).v"])
        for rows in [[0, 4], [3, 1], [4, 4]] {
            var queries = [Float](repeating: 0, count: b * c)
            var kv = [Float](repeating: 0, count: b * t * 2 * c)
            for s in 0..<b {
                for j in 0..<c { queries[s * c + j] = q[(s * t + rows[s]) * c + j] }
                for r in 0..<t {
                    for j in 0..<c {
                        kv[(s * t + r) * 2 * c + j] = k[(s * t + r) * c + j]
                        kv[(s * t + r) * 2 * c + c + j] = v[(s * t + r) * c + j]
                    }
                }
            }
            var y = [Float](repeating: 0, count: b * c)
            y.withPointer {
                Attention.forwardOneQuery(out: $0, q: queries, kv: kv, keys: rows.map { causal ? $0 + 1 : t },
                                          batch: b, tokens: t, channels: c, heads: h)
            }
            let reference = f["\(key).y"]
            var expected: [Float] = []
            for s in 0..<b {
                let start = (s * t + rows[s]) * c
                expected += reference[start..<(start + c)]
            }
            #expect(relativeError(y, expected) < 1e-5, "rows \(rows)")
        }
    }

    @Test(arguments: [true, false])
    func attentionOfOneQueryPerSequenceBackward(causal: Bool) {
        // PyTorch's gradients of q, k, v when only one row per sequence is read out: the fixture's
        // dy kept at those rows and zeroed elsewhere, through the full backward (itself checked
        // against autograd above), must equal the one-query backward.
        let key = causal ? "attention_causal" : "attention_noncausal"
        let (b, t, h, hd) = (2, 5, 2, 8)
        let c = h * hd
        let rows = [4, 2]
        let keys = rows.map { causal ? $0 + 1 : t }
        let (q, k, v, dy) = (f["\(key).q"], f["\(key).k"], f["\(key).v"], f["\(key).dy"])
        var qkv = [Float](repeating: 0, count: b * t * 3 * c)
        var queries = [Float](repeating: 0, count: b * c), kv = [Float](repeating: 0, count: b * t * 2 * c)
        var maskedDy = [Float](repeating: 0, count: b * t * c), rowDy = [Float](repeating: 0, count: b * c)
        for s in 0..<b {
            for r in 0..<t {
                let row = s * t + r
                for j in 0..<c {
                    qkv[row * 3 * c + j] = q[row * c + j]
                    qkv[row * 3 * c + c + j] = k[row * c + j]; kv[row * 2 * c + j] = k[row * c + j]
                    qkv[row * 3 * c + 2 * c + j] = v[row * c + j]; kv[row * 2 * c + c + j] = v[row * c + j]
                }
            }
            for j in 0..<c {
                let row = s * t + rows[s]
                queries[s * c + j] = q[row * c + j]
                maskedDy[row * c + j] = dy[row * c + j]; rowDy[s * c + j] = dy[row * c + j]
            }
        }
        var y = [Float](repeating: 0, count: b * t * c), probs = [Float](repeating: 0, count: b * h * t * t)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        y.withPointer { yp in probs.withPointer { pp in
            Attention.forward(out: yp, probs: pp, qkv: qkv, batch: b, tokens: t, channels: c, heads: h, causal: causal)
        } }
        dqkv.withPointer { Attention.backward(dqkv: $0, dout: maskedDy, qkv: qkv, probs: probs, batch: b, tokens: t, channels: c, heads: h) }

        var rowOut = [Float](repeating: 0, count: b * c), rowProbs = [Float](repeating: 0, count: b * h * t)
        rowOut.withPointer { op in rowProbs.withPointer { pp in
            Attention.forwardOneQuery(out: op, probs: pp, q: queries, kv: kv, keys: keys, batch: b, tokens: t, channels: c, heads: h)
        } }
        var dq = [Float](repeating: 0, count: b * c), dkv = [Float](repeating: 0, count: kv.count)
        dq.withPointer { dqp in dkv.withPointer { dkvp in
            Attention.backwardOneQuery(dq: dqp, dkv: dkvp, dout: rowDy, q: queries, kv: kv, probs: rowProbs,
                                       keys: keys, batch: b, tokens: t, channels: c, heads: h)
        } }
        var expectedDq = [Float](repeating: 0, count: b * c), expectedDkv = [Float](repeating: 0, count: kv.count)
        for s in 0..<b {
            for j in 0..<c { expectedDq[s * c + j] = dqkv[(s * t + rows[s]) * 3 * c + j] }
            for r in 0..<t {
                for j in 0..<(2 * c) { expectedDkv[(s * t + r) * 2 * c + j] = dqkv[(s * t + r) * 3 * c + c + j] }
            }
        }
        #expect(relativeError(dq, expectedDq) < 1e-5)
        #expect(relativeError(dkv, expectedDkv) < 1e-5)
    }

    @Test func linear() {
        let x = f["linear.x"], w = f["linear.weight"], bias = f["linear.bias"], dy = f["linear.dy"]
        let (m, k, n) = (5, 12, 8)
        var y = [Float](repeating: 0, count: m * n)
        y.withPointer { Linear.forward(out: $0, inp: x, weight: w, bias: bias, rows: m, inFeatures: k, outFeatures: n) }
        #expect(relativeError(y, f["linear.y"]) < 1e-6)
        var dx = [Float](repeating: 0, count: m * k), dw = [Float](repeating: 0, count: n * k), db = [Float](repeating: 0, count: n)
        dx.withPointer { dxp in dw.withPointer { dwp in db.withPointer { dbp in
            Linear.backward(dinp: dxp, dweight: dwp, dbias: dbp, dout: dy, inp: x, weight: w, rows: m, inFeatures: k, outFeatures: n)
        } } }
        #expect(relativeError(dx, f["linear.dx"]) < 1e-6)
        #expect(relativeError(dw, f["linear.dweight"]) < 1e-6)
        #expect(relativeError(db, f["linear.dbias"]) < 1e-6)
    }

    @Test func linearAccumulatesIntoResidual() {
        let x = f["linear.x"], w = f["linear.weight"], bias = f["linear.bias"]
        let (m, k, n) = (5, 12, 8)
        let residual = (0..<(m * n)).map { Float($0) * 0.01 }
        var y = residual
        y.withPointer { Linear.forward(out: $0, inp: x, weight: w, bias: bias, rows: m, inFeatures: k, outFeatures: n, accumulate: true) }
        let expected = zip(residual, f["linear.y"]).map { $0 + $1 }
        #expect(relativeError(y, expected) < 1e-6)
    }

    @Test func l2Normalize() {
        let x = f["l2_normalize.x"], dy = f["l2_normalize.dy"]
        let (rows, width) = (4, 8)
        var y = [Float](repeating: 0, count: x.count), norms = [Float](repeating: 0, count: rows), dx = y
        y.withPointer { yp in norms.withPointer { np in L2Normalize.forward(out: yp, norms: np, inp: x, rows: rows, width: width) } }
        dx.withPointer { L2Normalize.backward(dinp: $0, dout: dy, out: y, norms: norms, rows: rows, width: width) }
        #expect(relativeError(y, f["l2_normalize.y"]) < 1e-6)
        #expect(relativeError(dx, f["l2_normalize.dx"]) < 1e-5)
    }
}
