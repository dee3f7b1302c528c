import Foundation

/// A 2-D convolution on channels-last activations, [B, H, W, Cin] → [B, Ho, Wo, Cout], computed as
/// GEMMs over chunks of output pixels: each pixel's receptive field is unfolded into a row ordered
/// (ky, kx, cin) (im2col; a 1×1 convolution with stride 1 reads its input rows as they are) and
/// multiplied by the weight [Cout, kh·kw·Cin], packed once at load like every other weight.
///
/// Channels-last makes a 1×1 convolution a plain product and a feature map a token sequence, and
/// lets each worker unfold, multiply, add the bias and clamp one chunk while it is in cache.
/// The bias is where a folded batch norm goes; ReLU and a residual (accumulate) are fused.
/// Forward only: CLIP's image tower is frozen. Zero padding, square kernels, no dilation or groups.
public final class Convolution: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    let weight: InferenceWeight   // [Cout, kernel·kernel·Cin], columns ordered (ky, kx, cin)
    let bias: Tensor              // [Cout]

    /// `weight` in PyTorch's layout [Cout, Cin, k, k]; `bias` [Cout] or nil (zero).
    public init(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outChannels: Int, inChannels: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0, packing: Precision?) throws {
        precondition(outChannels > 0 && inChannels > 0 && kernel > 0 && stride > 0 && padding >= 0)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let k = kernel * kernel * inChannels
        let reordered = Tensor(zeros: [outChannels, k])
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                for tap in 0..<(kernel * kernel) {
                    reordered.pointer[o * k + tap * inChannels + c] = weight[(o * inChannels + c) * kernel * kernel + tap]
                }
            }
        }
        self.weight = try withExtendedLifetime(reordered) {
            try InferenceWeight(reordered.pointer, outFeatures: outChannels, inFeatures: k, packing: packing)
        }
        self.bias = Tensor(zeros: [outChannels])
        if let bias { self.bias.pointer.update(from: bias, count: outChannels) }
    }

    /// Bytes the weights hold.
    public var bytes: Int { weight.bytes + 4 * outChannels }

    /// The oneDNN implementation the weight is packed for, nil when plain.
    public var implementation: String? { weight.implementation }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
    }

    /// Floats of unfolded input one chunk may hold (2 MiB): large enough that OpenBLAS's packing of
    /// the weight for each chunk is small next to the product, small enough to stay in the cache.
    static let chunkFloats = 1 << 19
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// out [B, Ho, Wo, Cout] = conv(inp [B, H, W, Cin]) + bias, then max(·, 0) when `relu`.
    /// With `accumulate` the result is added to what `out` holds (a residual) before the clamp.
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                        batch: Int, height h: Int, width w: Int, relu: Bool, accumulate: Bool = false) {
        let (oh, ow) = outputSize(height: h, width: w)
        let rows = batch * oh * ow, k = kernel * kernel * inChannels, cout = outChannels
        guard rows > 0 else { return }
        let direct = kernel == 1 && stride == 1 && padding == 0
        // Chunks follow the machine's cores, not BLAS.threads, so that a thread setting never
        // changes how rows are grouped into products (and so the last bits of a result).
        let cores = Self.cores
        let chunk = min(direct ? rows : max(16, Self.chunkFloats / k), (rows + cores - 1) / cores)
        let chunks = (rows + chunk - 1) / chunk
        let tasks = 2 * rows * k * cout < 2 * BLAS.minimumFLOPsPerTask ? 1 : min(BLAS.threads, chunks)
        Parallel.forTasks(tasks) { task in
            let unfolded = direct ? nil : UnsafeMutablePointer<Float>.allocate(capacity: chunk * k)
            defer { unfolded?.deallocate() }
            for index in Swift.stride(from: task, to: chunks, by: tasks) {
                let first = index * chunk, count = min(chunk, rows - first)
                let a: UnsafePointer<Float>
                if let unfolded {
                    unfold(into: unfolded, rows: first..<(first + count), inp: inp, height: h, width: w, outHeight: oh, outWidth: ow)
                    a = UnsafePointer(unfolded)
                } else {
                    a = inp + first * inChannels
                }
                let y = out + first * cout
                weight.forwardOnThisThread(out: y, inp: a, rows: count, bias: bias.pointer, accumulate: accumulate)
                if relu {
                    for i in 0..<(count * cout) { y[i] = y[i] > 0 ? y[i] : 0 }
                }
            }
        }
    }

    /// im2col for output pixels `rows` (flattened b, oy, ox): one row of kernel·kernel·Cin floats
    /// each, zeros where the kernel reaches into the padding. A kernel row that lies inside the
    /// image is contiguous in channels-last memory and is copied at once.
    private func unfold(into buffer: UnsafeMutablePointer<Float>, rows: Range<Int>, inp: UnsafePointer<Float>,
                        height h: Int, width w: Int, outHeight oh: Int, outWidth ow: Int) {
        let cin = inChannels, span = kernel * cin
        var dst = buffer
        for r in rows {
            let (b, pixel) = r.quotientAndRemainder(dividingBy: oh * ow)
            let (oy, ox) = pixel.quotientAndRemainder(dividingBy: ow)
            let x0 = ox * stride - padding
            for ky in 0..<kernel {
                let iy = oy * stride - padding + ky
                if iy < 0 || iy >= h {
                    dst.update(repeating: 0, count: span)
                } else if x0 >= 0 && x0 + kernel <= w {
                    dst.update(from: inp + ((b * h + iy) * w + x0) * cin, count: span)
                } else {
                    for kx in 0..<kernel {
                        let ix = x0 + kx
                        if ix < 0 || ix >= w {
                            (dst + kx * cin).update(repeating: 0, count: cin)
                        } else {
                            (dst + kx * cin).update(from: inp + ((b * h + iy) * w + ix) * cin, count: cin)
                        }
                    }
                }
                dst += span
            }
        }
    }
}
