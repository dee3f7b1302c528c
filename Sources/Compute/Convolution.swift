import CPackedGEMM
import Foundation

/// A 2-D convolution on channels-last activations, [B, H, W, Cin] → [B, Ho, Wo, Cout], with its
/// weights packed once at load. Two kernels, chosen by measurement (docs/BENCHMARKS.md):
/// - oneDNN's convolution (`jit:avx2`, `jit_1x1:avx2`, brgconv on AVX-512) on the model's fixed
///   input size, with the bias, residual (sum) and ReLU fused; the default wherever oneDNN has one;
/// - im2col + GEMM: each output pixel's receptive field unfolded into a row ordered (ky, kx, cin)
///   (a 1×1 stride-1 convolution reads its input rows as they are) times the packed weight
///   [Cout, kh·kw·Cin]: for other input sizes' callers and CPUs where oneDNN has no fast kernel.
///
/// Channels-last makes a 1×1 convolution a plain product and a feature map a token sequence.
/// Work is split over the engine's workers by images, or by output rows when there are fewer
/// images than cores. Forward only: CLIP's image tower is frozen. Zero padding, square kernels,
/// no dilation or groups.
public final class Convolution: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    /// The input size oneDNN's kernel was made for (nil: im2col + GEMM for every size).
    public let inputSize: (height: Int, width: Int)?
    let packedConvolution: PackedConvolution?
    let weight: InferenceWeight?  // [Cout, kernel·kernel·Cin], columns ordered (ky, kx, cin), when not oneDNN's
    let bias: Tensor              // [Cout]

    /// Whether packed models use oneDNN's convolution where it has one (else im2col + GEMM
    /// always): for benchmarks that compare the two (`tagtune bench towers --convolution`).
    nonisolated(unsafe) public static var prefersOneDNN = true

    /// `weight` in PyTorch's layout [Cout, Cin, k, k]; `bias` [Cout] or nil (zero). With `packing`
    /// and an `inputSize`, oneDNN's convolution for that size when it has a fast one.
    public init(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outChannels: Int, inChannels: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0, packing: Precision?,
                inputSize: (height: Int, width: Int)? = nil) throws {
        precondition(outChannels > 0 && inChannels > 0 && kernel > 0 && stride > 0 && padding >= 0)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.bias = Tensor(zeros: [outChannels])
        if let bias { self.bias.pointer.update(from: bias, count: outChannels) }
        if let packing, let size = inputSize, Self.prefersOneDNN,
           let packed = try? PackedConvolution(weight: weight, bias: self.bias.pointer, inChannels: inChannels,
                                               outChannels: outChannels, kernel: kernel, stride: stride, padding: padding,
                                               height: size.height, width: size.width, precision: packing) {
            packedConvolution = packed
            self.inputSize = size
            self.weight = nil
            return
        }
        packedConvolution = nil
        self.inputSize = nil
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
    }

    /// Bytes the weights hold.
    public var bytes: Int { (packedConvolution?.bytes ?? weight?.bytes ?? 0) + 4 * outChannels }

    /// The oneDNN implementation the weights are packed for ("jit_1x1:avx2", or the matmul's for
    /// im2col + GEMM), nil when plain.
    public var implementation: String? { packedConvolution?.implementation ?? weight?.implementation }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
    }

    /// Floats of unfolded input one chunk may hold (2 MiB): large enough that OpenBLAS's packing of
    /// the weight for each chunk is small next to the product, small enough to stay in the cache.
    static let chunkFloats = 1 << 19
    public static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// out [B, Ho, Wo, Cout] = conv(inp [B, H, W, Cin]) + bias, then max(·, 0) when `relu`.
    /// With `accumulate` the result is added to what `out` holds (a residual) before the clamp.
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                        batch: Int, height h: Int, width w: Int, relu: Bool, accumulate: Bool = false) {
        let (oh, ow) = outputSize(height: h, width: w)
        let rows = batch * oh * ow, k = kernel * kernel * inChannels, cout = outChannels
        guard rows > 0 else { return }
        if let packedConvolution, let size = inputSize, size == (h, w) {
            packedConvolution.forward(out: out, inp: inp, batch: batch, outHeight: oh, workPerImage: oh * ow * k * cout,
                                      relu: relu, accumulate: accumulate)
            return
        }
        guard let weight else { preconditionFailure("no kernel for a \(h)×\(w) input (made for \(String(describing: inputSize)))") }
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

/// oneDNN's convolution for one input size (see `Convolution`): the C side's handle and how a
/// forward is split over the workers.
final class PackedConvolution: @unchecked Sendable {
    let handle: OpaquePointer   // tt_packed_conv *
    let implementation: String
    let bytes: Int

    init(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, inChannels: Int, outChannels: Int, kernel: Int,
         stride: Int, padding: Int, height: Int, width: Int, precision: Precision) throws {
        var error = [CChar](repeating: 0, count: 256)
        guard let handle = tt_packed_conv_create(weight, bias, inChannels, outChannels, kernel, stride, padding, height, width,
                                                 precision == .bf16 ? TT_BF16 : TT_F32, &error, error.count)
        else { throw PackingError(description: PackedWeight.text(error)) }
        self.handle = handle
        implementation = String(cString: tt_packed_conv_implementation(handle))
        bytes = tt_packed_conv_bytes(handle)
    }

    deinit { tt_packed_conv_destroy(handle) }

    /// Images go to the workers in groups when there are at least as many as cores; otherwise each
    /// worker takes a band of output rows of every image. Groups and bands follow the machine's
    /// cores, not BLAS.threads, so a thread setting never changes the bits.
    func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, batch: Int, outHeight oh: Int,
                 workPerImage: Int, relu: Bool, accumulate: Bool) {
        let cores = Convolution.cores
        // On one thread (`Parallel.onThisThreadOnly`) one call for everything: bands of a 7×7 map
        // are products of 21 rows, at half speed.
        let alone = Parallel.ThisThreadOnly.isOn
        let byImages = alone || batch >= cores || oh < 2
        let parts = alone ? 1 : byImages ? min(cores, batch) : min(cores, oh)
        let tasks = 2 * batch * workPerImage < 2 * BLAS.minimumFLOPsPerTask ? 1 : min(BLAS.threads, parts)
        let inImage = tt_packed_conv_image_floats(handle, false), outImage = tt_packed_conv_image_floats(handle, true)
        Parallel.forTasks(tasks) { task in
            for part in Swift.stride(from: task, to: parts, by: tasks) {
                var error = [CChar](repeating: 0, count: 256)
                let status: Int32
                if byImages {
                    let (first, end) = (batch * part / parts, batch * (part + 1) / parts)
                    status = tt_packed_conv_forward(handle, end - first, 0, oh, inp + first * inImage, out + first * outImage,
                                                    accumulate, relu, &error, error.count)
                } else {
                    status = tt_packed_conv_forward(handle, batch, oh * part / parts, oh * (part + 1) / parts, inp, out,
                                                    accumulate, relu, &error, error.count)
                }
                // The shapes were checked when the weights were packed; what is left is running out of memory.
                if status != 0 { fatalError("oneDNN: \(PackedWeight.text(error))") }   // precondition drops its message in release builds
            }
        }
    }
}
