import Foundation

/// Element-wise numerics shared by the losses, in Double, in forms that stay finite and
/// accurate for logits of ±100 (±500 once DBL scales negatives).
enum LossMath {
    /// log(1 + eˣ) without overflow.
    @inline(__always)
    static func softplus(_ x: Double) -> Double {
        max(x, 0) + log1p(exp(-abs(x)))
    }

    /// 1 / (1 + e⁻ˣ) without overflow.
    @inline(__always)
    static func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + exp(-x)) }
        let e = exp(x)
        return e / (1 + e)
    }

    /// Focal-modulated BCE of one element and its derivative with respect to the logit:
    /// ℓ·q^γ with ℓ = BCE-with-logits(z, y) and q = 1 − p_t = 1 − e^−ℓ.
    ///
    /// With s = +1 for a positive and −1 for a negative, ℓ = softplus(−s·z) and q = σ(−s·z),
    /// so dℓ/dz = −s·q and dq/dz = −s·q·(1 − q), giving d(ℓ·q^γ)/dz = −s·q^γ·(q + γ·ℓ·(1 − q)):
    /// no q^(γ−1), so nothing divides by zero when q underflows.
    @inline(__always)
    static func focalBinaryCrossEntropy(logit z: Double, positive: Bool, focusing gamma: Double)
        -> (value: Double, derivative: Double)
    {
        let signed = positive ? -z : z                 // −s·z
        let bce = softplus(signed)
        let q = sigmoid(signed)
        let modulation = gamma == 0 ? 1 : pow(q, gamma)
        let sign: Double = positive ? 1 : -1
        return (bce * modulation, -sign * modulation * (q + gamma * bce * (1 - q)))
    }

    /// Euclidean norm of `count` Floats, accumulated in Double, floored at 1e-8 as PyTorch's
    /// `cosine_similarity` floors it (a zero vector then has cosine 0 with everything).
    @inline(__always)
    static func norm(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var sum = 0.0
        for i in 0..<count { sum += Double(x[i]) * Double(x[i]) }
        return max(sum.squareRoot(), 1e-8)
    }

    /// Dot product of `count` Floats, accumulated in Double; four running sums, because a
    /// single one serialises on the latency of each add (the compiler may not reorder them).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= count {
            s0 += Double(a[i]) * Double(b[i])
            s1 += Double(a[i + 1]) * Double(b[i + 1])
            s2 += Double(a[i + 2]) * Double(b[i + 2])
            s3 += Double(a[i + 3]) * Double(b[i + 3])
            i += 4
        }
        while i < count {
            s0 += Double(a[i]) * Double(b[i])
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}
