/// The MLP activations of CLIP models, applied element-wise.
/// `quickGELU(x) = x · σ(1.702 x)` (OpenAI's models); `gelu(x) = ½ x (1 + erf(x / √2))` (exact, as
/// PyTorch's default GELU, used by many open_clip models).
public enum Activation: String, Sendable, Codable {
    case quickGELU = "quick_gelu"
    case gelu = "gelu"

    /// y = act(x), in place allowed (out may equal inp).
    @inlinable
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        // Chunks of 64 values keep each task's vectors aligned alike.
        let blocks = (count + 63) / 64
        Parallel.forRanges(count: blocks, workPerItem: 64 * 8) { range in
            let start = range.lowerBound * 64, length = min(count, range.upperBound * 64) - start
            let (o, i) = (out + start, inp + start)
            if o != UnsafeMutablePointer(mutating: i) { o.update(from: i, count: length) }
            switch self {
            case .quickGELU:
                forEachLane8(o, count: length) { x in x / (1 + exp8(-1.702 * x)) }
            case .gelu:
                forEachLane8(o, count: length) { x in 0.5 * x * (1 + erf8(x * 0.707_106_781_186_547_5)) }
            }
        }
    }

    /// dinp += dout · act′(x), from the activation's input x.
    @inlinable
    public func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        let blocks = (count + 63) / 64
        Parallel.forRanges(count: blocks, workPerItem: 64 * 12) { range in
            let start = range.lowerBound * 64, length = min(count, range.upperBound * 64) - start
            switch self {
            case .quickGELU:
                accumulateLane8(dinp + start, dout + start, inp + start, count: length) { x, dy in
                    let s = 1 / (1 + exp8(-1.702 * x))
                    return dy * (s + 1.702 * x * s * (1 - s))
                }
            case .gelu:
                accumulateLane8(dinp + start, dout + start, inp + start, count: length) { x, dy in
                    let cdf = 0.5 * (1 + erf8(x * 0.707_106_781_186_547_5))
                    let pdf = exp8(-0.5 * x * x) * 0.398_942_280_401_432_7
                    return dy * (cdf + x * pdf)
                }
            }
        }
    }
}

/// target[i] += body(x[i], dy[i]) 8 lanes at a time (the tail through a padded vector).
@inlinable @inline(__always)
func accumulateLane8(
    _ target: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int,
    _ body: (Float8, Float8) -> Float8
) {
    func load(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }
    var i = 0
    while i + 8 <= count {
        UnsafeMutableRawPointer(target + i).storeBytes(of: load(target + i) + body(load(x + i), load(dy + i)), as: Float8.self)
        i += 8
    }
    if i < count {
        var (xv, dv) = (Float8(), Float8())
        for j in 0..<(count - i) { (xv[j], dv[j]) = (x[i + j], dy[i + j]) }
        let g = body(xv, dv)
        for j in 0..<(count - i) { target[i + j] += g[j] }
    }
}
