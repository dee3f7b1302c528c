import CElementwise

/// The MLP activations of CLIP models, applied element-wise.
/// `quickGELU(x) = x · σ(1.702 x)` (OpenAI's models); `gelu(x) = ½ x (1 + erf(x / √2))` (exact, as
/// PyTorch's default GELU, used by many open_clip models). The loops are C (`CElementwise`), built
/// for AVX2 + FMA where the CPU has them; here they are split over the workers.
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
            case .quickGELU: tt_quick_gelu_forward(o, length)
            case .gelu: tt_gelu_forward(o, length)
            }
        }
    }

    /// x = act(x) in place, on the calling thread (a worker's own share of a product's output).
    @inlinable
    public func forwardOnThisThread(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .quickGELU: tt_quick_gelu_forward(x, count)
        case .gelu: tt_gelu_forward(x, count)
        }
    }

    /// dinp += dout · act′(x), from the activation's input x.
    @inlinable
    public func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        let blocks = (count + 63) / 64
        Parallel.forRanges(count: blocks, workPerItem: 64 * 12) { range in
            let start = range.lowerBound * 64, length = min(count, range.upperBound * 64) - start
            switch self {
            case .quickGELU: tt_quick_gelu_backward(dinp + start, dout + start, inp + start, length)
            case .gelu: tt_gelu_backward(dinp + start, dout + start, inp + start, length)
            }
        }
    }
}
