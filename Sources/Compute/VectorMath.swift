/// Reductions over a row, 8 lanes at a time: a scalar Float loop is not vectorised, since its
/// order is strict. (The transcendental kernels are C, in `CElementwise`.)
public typealias Float8 = SIMD8<Float>

/// Σ data[0..<count].
@inlinable @inline(__always)
public func sum8(_ data: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Float8()
    var i = 0
    while i + 8 <= count {
        lanes += UnsafeRawPointer(data + i).loadUnaligned(as: Float8.self)
        i += 8
    }
    var total = lanes.sum()
    while i < count { total += data[i]; i += 1 }
    return total
}

/// Σ (data[i] − center)², 8 lanes at a time.
@inlinable @inline(__always)
public func sumOfSquares8(_ data: UnsafePointer<Float>, count: Int, center: Float) -> Float {
    var lanes = Float8()
    var i = 0
    while i + 8 <= count {
        let d = UnsafeRawPointer(data + i).loadUnaligned(as: Float8.self) - center
        lanes += d * d
        i += 8
    }
    var total = lanes.sum()
    while i < count { let d = data[i] - center; total += d * d; i += 1 }
    return total
}
