import CPackedGEMM
import Testing
@testable import Compute

/// The im2col + GEMM convolution and the average pooling against direct loops over the definition
/// (PyTorch's conv2d and avg_pool2d, channels-last), on shapes that exercise padding, strides, odd
/// sizes, several chunks per worker, packed and plain weights, the fused ReLU and the residual.
@Suite("Convolution")
struct ConvolutionTests {
    /// y[b, oy, ox, o] = bias[o] + Σ_{c, ky, kx} x[b, oy·s − p + ky, ox·s − p + kx, c] · W[o, c, ky, kx].
    static func direct(_ x: [Float], _ weight: [Float], _ bias: [Float], batch: Int, height h: Int, width w: Int,
                       cin: Int, cout: Int, kernel k: Int, stride s: Int, padding p: Int) -> [Float] {
        let oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1
        var y = [Float](repeating: 0, count: batch * oh * ow * cout)
        for b in 0..<batch { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<cout {
            var sum = Double(bias[o])
            for c in 0..<cin { for ky in 0..<k { for kx in 0..<k {
                let iy = oy * s - p + ky, ix = ox * s - p + kx
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                sum += Double(x[((b * h + iy) * w + ix) * cin + c]) * Double(weight[((o * cin + c) * k + ky) * k + kx])
            } } }
            y[((b * oh + oy) * ow + ox) * cout + o] = Float(sum)
        } } } }
        return y
    }

    static func maxError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        let scale = max(b.map { abs($0) }.max() ?? 0, 1)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: [
        // (batch, h, w, cin, cout, kernel, stride, padding)
        (2, 9, 7, 3, 5, 3, 2, 1),      // the stem's first convolution, odd sizes
        (1, 8, 8, 16, 16, 3, 1, 1),    // a Bottleneck's 3×3
        (3, 5, 6, 24, 96, 1, 1, 0),    // 1×1: rows read directly, no unfolding
        (1, 10, 10, 4, 8, 5, 3, 2),    // wider kernel and stride than CLIP uses
        (2, 40, 40, 96, 24, 3, 1, 1),  // K = 864: several chunks per worker
    ])
    func matchesTheDefinition(shape: (Int, Int, Int, Int, Int, Int, Int, Int)) throws {
        let (batch, h, w, cin, cout, k, s, p) = shape
        var random = SplitMix64(seed: UInt64(cin * 1000 + cout))
        let x = (0..<(batch * h * w * cin)).map { _ in random.nextGaussian() }
        let weight = (0..<(cout * cin * k * k)).map { _ in random.nextGaussian() }
        let bias = (0..<cout).map { _ in random.nextGaussian() }
        let expected = Self.direct(x, weight, bias, batch: batch, height: h, width: w, cin: cin, cout: cout, kernel: k, stride: s, padding: p)
        // oneDNN's convolution for this input size, im2col + the packed GEMM, im2col + OpenBLAS.
        for (packing, oneDNN) in [(Precision.f32, true), (.f32, false), (nil, false)] {
            let conv = try weight.withUnsafeBufferPointer { wp in
                try bias.withUnsafeBufferPointer { bp in
                    try Convolution(weight: wp.baseAddress!, bias: bp.baseAddress!, outChannels: cout, inChannels: cin,
                                    kernel: k, stride: s, padding: p, packing: packing, inputSize: oneDNN ? (h, w) : nil)
                }
            }
            #expect((conv.packedConvolution != nil) == oneDNN, "\(shape): oneDNN has a convolution for it")
            let (oh, ow) = conv.outputSize(height: h, width: w)
            #expect(oh * ow * cout * batch == expected.count)
            var y = [Float](repeating: .nan, count: expected.count)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { conv.forward(out: $0.baseAddress!, inp: xp.baseAddress!, batch: batch, height: h, width: w, relu: false) }
            }
            let error = Self.maxError(y, expected)
            #expect(error < 1e-5, "\(shape) packing \(String(describing: packing)), oneDNN \(oneDNN): \(error)")

            // ReLU and a residual: y = max(r + conv(x), 0).
            let residual = (0..<expected.count).map { _ in random.nextGaussian() }
            var fused = residual
            x.withUnsafeBufferPointer { xp in
                fused.withUnsafeMutableBufferPointer { conv.forward(out: $0.baseAddress!, inp: xp.baseAddress!, batch: batch, height: h, width: w, relu: true, accumulate: true) }
            }
            let wanted = zip(residual, expected).map { max($0 + $1, 0) }
            #expect(Self.maxError(fused, wanted) < 1e-5, "\(shape) fused")
        }
    }

    @Test(arguments: [(1, false), (2, false), (1, true), (5, true)])
    func theSameResultOnAnyNumberOfThreads(batch: Int, oneDNN: Bool) throws {
        // Rows, bands and images are split over the workers, never a sum, and by the machine's
        // cores: the bits may not depend on the thread count.
        let (h, w, cin, cout) = (24, 24, 32, 64)
        var random = SplitMix64(seed: 5)
        let x = (0..<(batch * h * w * cin)).map { _ in random.nextGaussian() }
        let weight = (0..<(cout * cin * 9)).map { _ in random.nextGaussian() }
        let conv = try weight.withUnsafeBufferPointer {
            try Convolution(weight: $0.baseAddress!, bias: nil, outChannels: cout, inChannels: cin, kernel: 3, padding: 1,
                            packing: .f32, inputSize: oneDNN ? (h, w) : nil)
        }
        #expect((conv.packedConvolution != nil) == oneDNN)
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            BLAS.setThreads(threads)
            var y = [Float](repeating: 0, count: batch * h * w * cout)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { conv.forward(out: $0.baseAddress!, inp: xp.baseAddress!, batch: batch, height: h, width: w, relu: false) }
            }
            results.append(y)
        }
        #expect(results[0] == results[1] && results[1] == results[2])
    }

    @Test func oneDNNsBandsOfRowsEqualWholeImages() throws {
        // A batch smaller than the cores is split into bands of output rows, each with its own
        // padding; those must give what one call over whole images gives, image by image.
        let (batch, h, w, cin, cout) = (3, 13, 11, 16, 24)
        var random = SplitMix64(seed: 9)
        let x = (0..<(batch * h * w * cin)).map { _ in random.nextGaussian() }
        let weight = (0..<(cout * cin * 9)).map { _ in random.nextGaussian() }
        let bias = (0..<cout).map { _ in random.nextGaussian() }
        let conv = try weight.withUnsafeBufferPointer { wp in
            try bias.withUnsafeBufferPointer {
                try Convolution(weight: wp.baseAddress!, bias: $0.baseAddress!, outChannels: cout, inChannels: cin, kernel: 3,
                                stride: 2, padding: 1, packing: .f32, inputSize: (h, w))
            }
        }
        let packed = try #require(conv.packedConvolution)
        let (oh, ow) = conv.outputSize(height: h, width: w)
        let expected = Self.direct(x, weight, bias, batch: batch, height: h, width: w, cin: cin, cout: cout, kernel: 3, stride: 2, padding: 1)
        for bands in [1, 2, 3, oh] {
            var y = [Float](repeating: .nan, count: batch * oh * ow * cout)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    for band in 0..<bands {
                        var error = [CChar](repeating: 0, count: 256)
                        let status = tt_packed_conv_forward(packed.handle, batch, oh * band / bands, oh * (band + 1) / bands,
                                                            xp.baseAddress!, yp.baseAddress!, false, false, &error, error.count)
                        #expect(status == 0, "\(PackedWeight.text(error))")
                    }
                }
            }
            #expect(Self.maxError(y, expected) < 1e-5, "\(bands) bands")
        }
    }

    @Test(arguments: [(1, 8, 8, 3, 2), (2, 7, 9, 5, 2), (1, 6, 6, 4, 3), (2, 4, 4, 2, 1)])
    func averagePoolingMatchesTheDefinition(shape: (Int, Int, Int, Int, Int)) {
        let (batch, h, w, c, size) = shape
        var random = SplitMix64(seed: 11)
        let x = (0..<(batch * h * w * c)).map { _ in random.nextGaussian() }
        let (oh, ow) = (h / size, w / size)
        var expected = [Float](repeating: 0, count: batch * oh * ow * c)
        for b in 0..<batch { for oy in 0..<oh { for ox in 0..<ow { for ch in 0..<c {
            var sum: Float = 0
            for dy in 0..<size { for dx in 0..<size { sum += x[((b * h + oy * size + dy) * w + ox * size + dx) * c + ch] } }
            expected[((b * oh + oy) * ow + ox) * c + ch] = sum / Float(size * size)
        } } } }
        var y = [Float](repeating: .nan, count: expected.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer {
                AveragePool.forward(out: $0.baseAddress!, inp: xp.baseAddress!, batch: batch, height: h, width: w, channels: c, size: size)
            }
        }
        #expect(Self.maxError(y, expected) < 1e-6, "\(shape)")
    }
}
