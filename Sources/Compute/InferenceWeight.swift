/// A frozen weight W [N, K] (PyTorch's out × in) of a layer that only runs forward: packed for
/// oneDNN when the model packs its weights, the float32 matrix through OpenBLAS when it does not
/// (oneDNN unavailable). The ResNet tower's convolutions and attention pool hold theirs this way.
public enum InferenceWeight: Sendable {
    case packed(PackedWeight)
    case plain(Tensor)

    /// W [outFeatures, inFeatures], row stride `inFeatures`; packed in `packing` when given.
    public init(_ weight: UnsafePointer<Float>, outFeatures n: Int, inFeatures k: Int, packing: Precision?) throws {
        if let packing {
            self = .packed(try PackedWeight(weight, outFeatures: n, inFeatures: k, precision: packing))
        } else {
            let plain = Tensor(zeros: [n, k])
            plain.pointer.update(from: weight, count: n * k)
            self = .plain(plain)
        }
    }

    public var outFeatures: Int {
        switch self { case .packed(let w): w.outFeatures; case .plain(let w): w.shape[0] }
    }

    public var inFeatures: Int {
        switch self { case .packed(let w): w.inFeatures; case .plain(let w): w.shape[1] }
    }

    /// Bytes the weight holds.
    public var bytes: Int {
        switch self { case .packed(let w): w.bytes; case .plain(let w): 4 * w.count }
    }

    /// The oneDNN implementation it is packed for, nil when plain.
    public var implementation: String? {
        if case .packed(let w) = self { return w.implementation }
        return nil
    }

    /// out[m, n] (+)= inp[m, :] · Wᵀ + bias[n], split over the workers.
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows m: Int,
                        bias: UnsafePointer<Float>?, accumulate: Bool = false) {
        switch self {
        case .packed(let w):
            w.forward(out: out, inp: inp, rows: m, bias: bias, accumulate: accumulate)
        case .plain(let w):
            Linear.forward(out: out, inp: inp, weight: w.pointer, bias: bias,
                           rows: m, inFeatures: w.shape[1], outFeatures: w.shape[0], accumulate: accumulate)
        }
    }

    /// The same product on the calling thread, for callers that split the rows themselves.
    public func forwardOnThisThread(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, lda: Int? = nil,
                                    rows m: Int, bias: UnsafePointer<Float>?, accumulate: Bool = false) {
        switch self {
        case .packed(let w):
            w.forwardOnThisThread(out: out, inp: inp, lda: lda, rows: m, bias: bias, accumulate: accumulate)
        case .plain(let w):
            let (n, k) = (w.shape[0], w.shape[1])
            gemmSlice(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: inp, lda: lda ?? k,
                      b: w.pointer, ldb: k, beta: accumulate ? 1 : 0, c: out, ldc: n, rowBias: bias)
        }
    }
}
