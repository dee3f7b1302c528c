import Compute

/// The read-out of a ResNet CLIP (open_clip's AttentionPool2d): the final feature map's positions
/// become tokens, their mean is prepended, positional embeddings are added, and one multi-head
/// attention with the mean token as the only query gives the image feature through `c_proj`.
/// (PyTorch computes every token's query and keeps the first; the first is all that is read.)
struct AttentionPool: Sendable {
    let width: Int, heads: Int, outputWidth: Int
    let positions: Tensor                               // [1 + HW, E]
    let query: InferenceWeight, queryBias: Tensor       // q_proj [E, E]
    let keyValue: InferenceWeight, keyValueBias: Tensor // k_proj and v_proj stacked [2E, E]
    let output: InferenceWeight, outputBias: Tensor     // c_proj [D, E]

    init(loader: WeightLoader, width e: Int, heads: Int, grid: Int, outputWidth d: Int, packing: Precision?) throws {
        typealias Part = CheckpointLayout.AttentionPoolPart
        func load(_ part: Part, _ shape: [Int]) throws -> Tensor { try loader.load(.tensor(part.rawValue), shape: shape) }
        width = e
        self.heads = heads
        outputWidth = d
        positions = try load(.positions, [1 + grid * grid, e])
        func weight(_ matrix: Tensor) throws -> InferenceWeight {
            try withExtendedLifetime(matrix) {
                try InferenceWeight(matrix.pointer, outFeatures: matrix.shape[0], inFeatures: matrix.shape[1], packing: packing)
            }
        }
        query = try weight(try load(.queryWeight, [e, e]))
        queryBias = try load(.queryBias, [e])
        keyValue = try weight(try loader.load(.stacked([Part.keyWeight.rawValue, Part.valueWeight.rawValue]), shape: [2 * e, e]))
        keyValueBias = try loader.load(.stacked([Part.keyBias.rawValue, Part.valueBias.rawValue]), shape: [2 * e])
        output = try weight(try load(.outputWeight, [d, e]))
        outputBias = try load(.outputBias, [d])
    }

    var bytes: Int { query.bytes + keyValue.bytes + output.bytes + 4 * (positions.count + 4 * width + outputWidth) }

    /// Features [B, D] of feature maps [B, HW, E] (channels-last: each position a token).
    func forward(_ features: UnsafePointer<Float>, batch: Int, positionCount hw: Int) -> [Float] {
        let e = width, t = 1 + hw
        let tokens = Tensor(zeros: [batch, t, e])
        let firsts = Tensor(zeros: [batch, e])
        for b in 0..<batch {
            let x = features + b * hw * e, y = tokens.pointer + b * t * e
            for p in 0..<hw {
                for i in 0..<e { y[i] += x[p * e + i] }
            }
            let inverse = 1 / Float(hw)
            for i in 0..<e { y[i] = y[i] * inverse }
            (y + e).update(from: x, count: hw * e)
            for i in 0..<(t * e) { y[i] += positions.pointer[i] }
            (firsts.pointer + b * e).update(from: y, count: e)
        }
        let q = Tensor(zeros: [batch, e]), kv = Tensor(zeros: [batch, t, 2 * e]), attended = Tensor(zeros: [batch, e])
        query.forward(out: q.pointer, inp: firsts.pointer, rows: batch, bias: queryBias.pointer)
        keyValue.forward(out: kv.pointer, inp: tokens.pointer, rows: batch * t, bias: keyValueBias.pointer)
        Attention.forwardOneQuery(out: attended.pointer, q: q.pointer, kv: kv.pointer,
                                  keys: [Int](repeating: t, count: batch), batch: batch, tokens: t, channels: e, heads: heads)
        var out = [Float](repeating: 0, count: batch * outputWidth)
        out.withUnsafeMutableBufferPointer {
            output.forward(out: $0.baseAddress!, inp: attended.pointer, rows: batch, bias: outputBias.pointer)
        }
        return out
    }

    /// FLOPs of one image as PyTorch computes it (queries for every token) and as here (one query).
    func flops(positionCount hw: Int) -> (written: Double, performed: Double) {
        let e = Double(width), t = Double(1 + hw), d = Double(outputWidth)
        let kv = 2 * t * 2 * e * e, attention = 2 * 2 * e * t, out = 2 * e * d
        return (kv + 2 * t * e * e + t * attention + out, kv + 2 * e * e + attention + out)
    }
}
