/// Average pooling over non-overlapping size × size windows (PyTorch's AvgPool2d(size): stride =
/// size, no padding, rows and columns past the last whole window dropped), channels-last.
public enum AveragePool {
    /// out [B, H/size, W/size, C] from inp [B, H, W, C].
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               batch: Int, height h: Int, width w: Int, channels c: Int, size: Int) {
        let (oh, ow) = (h / size, w / size)
        let scale = 1 / Float(size * size)
        Parallel.forRanges(count: batch * oh, workPerItem: size * w * c) { outRows in
            for row in outRows {
                let (b, oy) = row.quotientAndRemainder(dividingBy: oh)
                let y = out + row * ow * c
                y.update(repeating: 0, count: ow * c)
                for dy in 0..<size {
                    let x = inp + ((b * h + oy * size + dy) * w) * c
                    for ox in 0..<ow {
                        let yo = y + ox * c
                        for dx in 0..<size {
                            let xi = x + (ox * size + dx) * c
                            for i in 0..<c { yo[i] += xi[i] }
                        }
                    }
                }
                for i in 0..<(ow * c) { y[i] *= scale }
            }
        }
    }
}
