/// Vectorised transcendental functions for the element-wise layers. The libm calls cost
/// as much as the GEMMs around them at these sizes, so exp and erf are evaluated 8 lanes at a time
/// with polynomial approximations accurate to a few float ulps.
public typealias Float8 = SIMD8<Float>

/// e^x for 8 lanes (Cody–Waite range reduction to |r| ≤ ln2/2, degree-6 polynomial; relative error < 2e-7).
/// Rounding and 2^n use the float "magic number" trick so every step stays in SIMD registers.
@inlinable @inline(__always)
public func exp8(_ input: Float8) -> Float8 {
    // Clamp with lane selects (the generic pointwiseMin/Max are not inlined and cost ~2% of a forward).
    let low = Float8(repeating: -87.3), high = Float8(repeating: 88.37)
    let x = input.replacing(with: low, where: input .< low).replacing(with: high, where: input .> high)
    // t = x·log2(e) + 1.5·2^23 + 127: the low mantissa bits of t hold round(x·log2 e) + 127.
    let magic: Float = 12_582_912 + 127
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    var r = x - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    var p = Float8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * r * r + r + 1
    let twoToN = unsafeBitCast(unsafeBitCast(t, to: SIMD8<UInt32>.self) &<< 23, to: Float8.self)
    return p * twoToN
}

/// e^x for one value through the same polynomial (for tails of loops).
@inlinable @inline(__always)
public func exp1(_ x: Float) -> Float { exp8(Float8(repeating: x))[0] }

/// erf(x) for 8 lanes (Abramowitz & Stegun 7.1.26; absolute error < 1.5e-7 in exact arithmetic, about 4e-7 in Float).
@inlinable @inline(__always)
public func erf8(_ x: Float8) -> Float8 {
    let signBits = unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x8000_0000
    let a = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Float8.self)
    let t = 1 / (1 + 0.327_591_1 * a)
    var p = Float8(repeating: 1.061_405_429)
    p = p * t - 1.453_152_027
    p = p * t + 1.421_413_741
    p = p * t - 0.284_496_736
    p = p * t + 0.254_829_592
    let y = 1 - p * t * exp8(-a * a)
    return unsafeBitCast(unsafeBitCast(y, to: SIMD8<UInt32>.self) | signBits, to: Float8.self)   // erf is odd
}

/// Applies an 8-lane function over a buffer in place, handling the tail with a padded vector.
@inlinable @inline(__always)
public func forEachLane8(
    _ data: UnsafeMutablePointer<Float>, count: Int, _ body: (Float8) -> Float8
) {
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(data + i).loadUnaligned(as: Float8.self)
        UnsafeMutableRawPointer(data + i).storeBytes(of: body(v), as: Float8.self)
        i += 8
    }
    if i < count {
        var v = Float8()
        for j in 0..<(count - i) { v[j] = data[i + j] }
        let r = body(v)
        for j in 0..<(count - i) { data[i + j] = r[j] }
    }
}

/// Σ data[0..<count], 8 lanes at a time (a scalar Float loop is not vectorised: its order is strict).
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

/// max(data[0..<count]) (−∞ when empty), 8 lanes at a time.
@inlinable @inline(__always)
public func maximum8(_ data: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Float8(repeating: -.infinity)
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(data + i).loadUnaligned(as: Float8.self)
        lanes = lanes.replacing(with: v, where: v .> lanes)
        i += 8
    }
    var result = lanes.max()
    while i < count { result = Swift.max(result, data[i]); i += 1 }
    return result
}
