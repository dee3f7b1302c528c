/// The MLP activations of CLIP models, applied element-wise.
/// `quickGELU(x) = x · σ(1.702 x)` (OpenAI's models); `gelu(x) = ½ x (1 + erf(x / √2))` (exact, as
/// PyTorch's default GELU, used by many open_clip models).
public enum Activation: String, Sendable, Codable {
    case quickGELU = "quick_gelu"
    case gelu = "gelu"

    /// y = act(x), in place allowed (out may equal inp).
    @inlinable
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        if out != UnsafeMutablePointer(mutating: inp) { out.update(from: inp, count: count) }
        switch self {
        case .quickGELU:
            forEachLane8(out, count: count) { x in x / (1 + exp8(-1.702 * x)) }
        case .gelu:
            forEachLane8(out, count: count) { x in 0.5 * x * (1 + erf8(x * 0.707_106_781_186_547_5)) }
        }
    }

    /// dinp += dout · act′(x), from the activation's input x.
    @inlinable
    public func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        switch self {
        case .quickGELU:
            for i in 0..<count {
                let x = inp[i]
                let s = 1 / (1 + exp1(-1.702 * x))
                dinp[i] += dout[i] * (s + 1.702 * x * s * (1 - s))
            }
        case .gelu:
            for i in 0..<count {
                let x = inp[i]
                let cdf = 0.5 * (1 + erf8(Float8(repeating: x * 0.707_106_781_186_547_5))[0])
                let pdf = exp1(-0.5 * x * x) * 0.398_942_280_401_432_7
                dinp[i] += dout[i] * (cdf + x * pdf)
            }
        }
    }
}
