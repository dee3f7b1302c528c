/// Pillow's bicubic resampling weights for one axis (libImaging/Resample.c,
/// `precompute_coeffs` + `normalize_coeffs_8bpc`), reproduced operation for operation in
/// Double so that the fixed-point weights, and therefore the pixels, are identical.
struct ResampleCoefficients {
    /// Fractional bits of the fixed-point weights: 32 − 8 − 2, as Pillow.
    static let precisionBits: Int32 = 22
    /// Accumulator start value: one half in fixed point, so the final shift rounds.
    static let rounding: Int32 = 1 << (precisionBits - 1)

    let inSize: Int
    let outSize: Int
    /// The output indices these coefficients cover (a crop needs only part of the axis, and a
    /// huge resized axis must not cost memory in proportion to its length).
    let outputs: Range<Int>
    /// Weights stored per output index (the largest window any index can have).
    let stride: Int
    /// First input index of each covered output's window, from `outputs.lowerBound`.
    let starts: [Int32]
    /// Window length of each covered output.
    let counts: [Int32]
    /// `outputs.count * stride` weights, 22 fractional bits, unused tail entries zero.
    let weights: [Int32]

    /// Coefficients resampling `inSize` samples to `outSize`, for the outputs in `outputs`.
    init(inSize: Int, outSize: Int, outputs: Range<Int>) {
        precondition(inSize > 0 && outSize > 0 && outputs.lowerBound >= 0 && outputs.upperBound <= outSize)
        self.inSize = inSize
        self.outSize = outSize
        self.outputs = outputs
        // Pillow passes the box edges as C floats: (double)(in1 - in0) / outSize.
        let scale = Double(Float(inSize) - Float(0)) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 2.0 * filterScale  // bicubic support 2, widened when downscaling
        let stride = Int(support.rounded(.up)) * 2 + 1
        self.stride = stride

        var starts = [Int32](repeating: 0, count: outputs.count)
        var counts = [Int32](repeating: 0, count: outputs.count)
        var weights = [Int32](repeating: 0, count: outputs.count * stride)
        var window = [Double](repeating: 0, count: stride)
        let ss = 1.0 / filterScale
        for xx in outputs {
            let slot = xx - outputs.lowerBound
            let center = 0.0 + (Double(xx) + 0.5) * scale
            // C's (int) conversion truncates toward zero, as Int(_: Double) does.
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var total = 0.0
            for x in 0..<xmax {
                let w = Self.bicubic((Double(x + xmin) - center + 0.5) * ss)
                window[x] = w
                total += w
            }
            let unit = Double(Int32(1) << Self.precisionBits)
            for x in 0..<xmax {
                let k = total != 0.0 ? window[x] / total : window[x]
                // Rounded half away from zero, then truncated, exactly as Pillow.
                weights[slot * stride + x] = k < 0 ? Int32(-0.5 + k * unit) : Int32(0.5 + k * unit)
            }
            starts[slot] = Int32(xmin)
            counts[slot] = Int32(max(xmax, 0))
        }
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }

    /// Coefficients for every output index.
    init(inSize: Int, outSize: Int) {
        self.init(inSize: inSize, outSize: outSize, outputs: 0..<outSize)
    }

    /// Keys' cubic convolution kernel with a = −0.5, written in Pillow's operation order.
    @inline(__always)
    static func bicubic(_ value: Double) -> Double {
        let a = -0.5
        let x = value < 0.0 ? -value : value
        if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
        if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0.0
    }

    /// `sum >> 22` clamped to 0...255 (Pillow's `clip8`).
    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum >> precisionBits)
    }
}
