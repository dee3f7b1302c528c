/// Row-wise L2 normalisation: y = x / ‖x‖ (‖x‖ floored at 1e-12, as F.normalize).
public enum L2Normalize {
    /// out = x / ‖x‖ per row; `norms` (optional) receives ‖x‖ for backward.
    @inlinable
    public static func forward(out: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>?,
                               inp: UnsafePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let x = inp + r * width, y = out + r * width
            var sum: Float = 0
            for j in 0..<width { sum += x[j] * x[j] }
            let norm = max(sum.squareRoot(), 1e-12)
            let inverse = 1 / norm
            for j in 0..<width { y[j] = x[j] * inverse }
            norms?[r] = norm
        }
    }

    /// dinp += (dy − y (y · dy)) / ‖x‖, from the output y and the stored norms.
    @inlinable
    public static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                out y: UnsafePointer<Float>, norms: UnsafePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let yr = y + r * width, dy = dout + r * width, dx = dinp + r * width
            var dot: Float = 0
            for j in 0..<width { dot += yr[j] * dy[j] }
            let inverse = 1 / norms[r]
            for j in 0..<width { dx[j] += (dy[j] - yr[j] * dot) * inverse }
        }
    }

    /// Rows of `values` (width `width`) divided by their norms, as a new array.
    public static func rows(_ values: [Float], width: Int) -> [Float] {
        var out = values
        values.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { y in
            forward(out: y.baseAddress!, norms: nil, inp: x.baseAddress!, rows: values.count / max(width, 1), width: width)
        } }
        return out
    }
}
