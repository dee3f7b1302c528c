/// Layer normalisation over the last dimension C of `rows` rows:
/// y = (x − mean) · rstd · w + b, rstd = 1 / sqrt(var + eps) (biased variance, as PyTorch).
/// Forward stores each row's mean and rstd when asked; backward needs them.
public enum LayerNorm {
    @inlinable
    public static func forward(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        rows: Int, channels c: Int, eps: Float
    ) {
        Parallel.forRanges(count: rows, workPerItem: 2 * c) { range in
            for r in range {
                let x = inp + r * c
                let y = out + r * c
                let m = sum8(x, count: c) / Float(c)
                let s = 1 / (sumOfSquares8(x, count: c, center: m) / Float(c) + eps).squareRoot()
                for i in 0..<c { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
                mean?[r] = m
                rstd?[r] = s
            }
        }
    }

    /// dinp += ∂L/∂x; dweight and dbias (optional) += their gradients.
    /// With x̂ = (x − mean)·rstd and g = dout·w: dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)).
    @inlinable
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        rows: Int, channels c: Int
    ) {
        func backwardRows(_ rows: Range<Int>) { for r in rows {
            let x = inp + r * c
            let dy = dout + r * c
            let dx = dinp + r * c
            let m = mean[r]
            let s = rstd[r]
            var meanG: Float = 0
            var meanGX: Float = 0
            for i in 0..<c {
                let xhat = (x[i] - m) * s
                let g = dy[i] * weight[i]
                meanG += g
                meanGX += g * xhat
            }
            meanG /= Float(c)
            meanGX /= Float(c)
            for i in 0..<c {
                let xhat = (x[i] - m) * s
                dx[i] += s * (dy[i] * weight[i] - meanG - xhat * meanGX)
                dweight?[i] += dy[i] * xhat
                dbias?[i] += dy[i]
            }
        } }
        // Rows are independent unless the weight and bias gradients (sums over rows) are wanted.
        if dweight == nil && dbias == nil {
            Parallel.forRanges(count: rows, workPerItem: 4 * c, backwardRows)
        } else {
            backwardRows(0..<rows)
        }
    }
}
