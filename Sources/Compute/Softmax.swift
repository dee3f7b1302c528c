import CElementwise

/// Softmax over rows, numerically stable (the row maximum is subtracted first).
public enum Softmax {
    /// Normalises the first `length` entries of a row in place; entries past `length`
    /// (masked out by a causal mask) are set to 0.
    @inlinable
    public static func forwardRow(_ row: UnsafeMutablePointer<Float>, length: Int, width: Int) {
        tt_softmax_row(row, length, width)   // C: built for AVX2 + FMA where the CPU has them
    }

    /// Row softmax of `rows × width` values: out = softmax(inp).
    @inlinable
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows: Int, width: Int) {
        out.update(from: inp, count: rows * width)
        for r in 0..<rows { forwardRow(out + r * width, length: width, width: width) }
    }

    /// In place: grad (holding dL/dy) becomes dL/dx = y ⊙ (dy − Σ_j dy_j y_j), from the softmax output y.
    @inlinable
    public static func backwardRowInPlace(_ grad: UnsafeMutablePointer<Float>, probabilities y: UnsafePointer<Float>, width: Int) {
        var dot: Float = 0
        for j in 0..<width { dot += grad[j] * y[j] }
        for j in 0..<width { grad[j] = y[j] * (grad[j] - dot) }
    }

    /// dinp += softmax backward over rows.
    @inlinable
    public static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, out y: UnsafePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let yr = y + r * width, dy = dout + r * width, dx = dinp + r * width
            var dot: Float = 0
            for j in 0..<width { dot += dy[j] * yr[j] }
            for j in 0..<width { dx[j] += yr[j] * (dy[j] - dot) }
        }
    }
}
