import Compute
import Foundation

/// CLIP's ResNet image encoder (open_clip's ModifiedResNet; forward only, the encoder is frozen):
/// stem (3×3 stride-2, 3×3, 3×3 convolutions, then 2×2 average pooling) → four stages of
/// Bottleneck blocks → attention pooling. Activations are channels-last throughout, so every 1×1
/// convolution is a plain product and the last feature map is already a token sequence.
///
/// Batch norms (eval mode: running statistics) are folded into the convolutions before them at load:
/// W′ = W · γ/√(σ² + ε) per output channel and b′ = β − μ · γ/√(σ² + ε).
public final class ResNetTower: ImageTower {
    public let configuration: CLIPConfiguration
    let stem: [Convolution]          // 3 → width/2 (stride 2), width/2 → width/2, width/2 → width
    let stages: [[Bottleneck]]
    let pool: AttentionPool

    /// One Bottleneck: 1×1 → 3×3 → (average pooling when strided) → 1×1 to 4·planes, plus a
    /// shortcut that is the input, or (average pooling when strided →) 1×1 convolution. The
    /// stride is the anti-aliased one of OpenAI's ResNets: pooling, never a strided convolution.
    struct Bottleneck: Sendable {
        let reduce: Convolution, spatial: Convolution, expand: Convolution
        let shortcut: Convolution?
        let stride: Int

        /// y [B, H/stride, W/stride, 4·planes] = relu(expand(pool(relu(spatial(relu(reduce(x)))))) + shortcut(x)).
        /// With the identity shortcut the sum is made in `x`'s buffer, which is returned: callers
        /// replace their `x` with the result.
        func forward(_ x: Tensor, batch: Int, height h: Int, width w: Int) -> Tensor {
            let planes = reduce.outChannels
            let reduced = Tensor(uninitialized: [batch, h, w, planes])
            reduce.forward(out: reduced.pointer, inp: x.pointer, batch: batch, height: h, width: w, relu: true)
            var mixed = Tensor(uninitialized: [batch, h, w, planes])
            spatial.forward(out: mixed.pointer, inp: reduced.pointer, batch: batch, height: h, width: w, relu: true)
            let (oh, ow) = (h / stride, w / stride)
            if stride > 1 { mixed = pooled(mixed, batch: batch, height: h, width: w, size: stride) }
            let y: Tensor
            if let shortcut {
                y = Tensor(uninitialized: [batch, oh, ow, expand.outChannels])
                let source = stride > 1 ? pooled(x, batch: batch, height: h, width: w, size: stride) : x
                shortcut.forward(out: y.pointer, inp: source.pointer, batch: batch, height: oh, width: ow, relu: false)
            } else {
                y = x
            }
            expand.forward(out: y.pointer, inp: mixed.pointer, batch: batch, height: oh, width: ow, relu: true, accumulate: true)
            return y
        }
    }

    init(loader: WeightLoader, configuration: CLIPConfiguration, packing: Precision?) throws {
        guard let resnet = configuration.resnet else { preconditionFailure("not a ResNet configuration") }
        self.configuration = configuration
        // Each convolution is made for the size of the feature map it sees (oneDNN's kernels are).
        func folded(_ conv: CheckpointLayout.ResNetConvolution, in cin: Int, out cout: Int, kernel: Int,
                    stride: Int = 1, at size: Int) throws -> Convolution {
            try Self.foldedConvolution(loader: loader, conv, in: cin, out: cout, kernel: kernel, stride: stride,
                                       inputSize: size, packing: packing)
        }
        let width = resnet.width, s = configuration.imageSize
        stem = [try folded(.stem(1), in: 3, out: width / 2, kernel: 3, stride: 2, at: s),
                try folded(.stem(2), in: width / 2, out: width / 2, kernel: 3, at: s / 2),
                try folded(.stem(3), in: width / 2, out: width, kernel: 3, at: s / 2)]
        var stages: [[Bottleneck]] = []
        var inChannels = width, size = s / 4
        for (stage, count) in resnet.blocks.enumerated() {
            let planes = width << stage
            var blocks: [Bottleneck] = []
            for b in 0..<count {
                let stride = stage > 0 && b == 0 ? 2 : 1
                let needsShortcut = stride > 1 || inChannels != 4 * planes
                let conv = { (i: Int) in CheckpointLayout.ResNetConvolution.block(stage: stage + 1, block: b, convolution: i) }
                blocks.append(Bottleneck(
                    reduce: try folded(conv(1), in: inChannels, out: planes, kernel: 1, at: size),
                    spatial: try folded(conv(2), in: planes, out: planes, kernel: 3, at: size),
                    expand: try folded(conv(3), in: planes, out: 4 * planes, kernel: 1, at: size / stride),
                    shortcut: needsShortcut ? try folded(.shortcut(stage: stage + 1, block: b), in: inChannels, out: 4 * planes,
                                                         kernel: 1, at: size / stride) : nil,
                    stride: stride))
                inChannels = 4 * planes
                size /= stride
            }
            stages.append(blocks)
        }
        self.stages = stages
        pool = try AttentionPool(loader: loader, width: resnet.embedWidth, heads: resnet.heads,
                                 grid: configuration.patchesPerSide, outputWidth: configuration.projectionDim, packing: packing)
    }

    /// A convolution (no bias in the checkpoint) with the batch norm after it folded in; 3×3 kernels
    /// get padding 1, as every one in these towers has. The scale is computed in double precision.
    static func foldedConvolution(loader: WeightLoader, _ conv: CheckpointLayout.ResNetConvolution,
                                  in cin: Int, out cout: Int, kernel: Int, stride: Int, inputSize: Int,
                                  packing: Precision?) throws -> Convolution {
        let names = conv.names
        let weight = try loader.load(.tensor(names.weight), shape: [cout, cin, kernel, kernel])
        let norm = try CheckpointLayout.batchNormTensors.map { try loader.load(.tensor(names.batchNorm + $0), shape: [cout]) }
        let (gamma, beta, mean, variance) = (norm[0].array, norm[1].array, norm[2].array, norm[3].array)
        let bias = Tensor(zeros: [cout])
        let perChannel = cin * kernel * kernel
        for o in 0..<cout {
            guard variance[o] >= 0 else {
                throw CLIPError.checkpoint("\(names.batchNorm)running_var[\(o)] is negative (\(variance[o]))")
            }
            let scale = Double(gamma[o]) / (Double(variance[o]) + batchNormEpsilon).squareRoot()
            for i in 0..<perChannel { weight.pointer[o * perChannel + i] = Float(Double(weight.pointer[o * perChannel + i]) * scale) }
            bias.pointer[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
        }
        return try withExtendedLifetime((weight, bias)) {
            try Convolution(weight: weight.pointer, bias: bias.pointer, outChannels: cout, inChannels: cin,
                            kernel: kernel, stride: stride, padding: kernel / 2, packing: packing,
                            inputSize: (inputSize, inputSize))
        }
    }

    /// PyTorch's BatchNorm2d default, which open_clip's ResNets keep.
    static let batchNormEpsilon = 1e-5

    /// Images a worker takes through the last two stages at once (RN50 at 224 px: 14×14 and 7×7
    /// maps with the largest weights). Products of one image's 49 pixels there ran at 85 GFLOP/s on
    /// an AVX-512 core, of four images' at 127; the earlier stages' maps are large enough alone.
    static let imagesPerWorker = 4

    /// Each worker takes an equal share of the batch through the whole tower on its own thread, with
    /// no fork-join in any of the ~50 layers (where every worker waits for the slowest): the early
    /// stages image by image, the last two stages on up to `imagesPerWorker` of its images together.
    /// The images left over (fewer than the workers; all of a batch of one) go through with every
    /// convolution split over the workers in bands of output rows, so that batch 3 on 2 cores does
    /// not leave a core idle for a third of the time. RN50, 2 AVX-512 cores, images/s (2026-12-04):
    /// batch 8 and 32 21.9 / 22.1 in groups of two images split per convolution, 23.1 / 23.4 one
    /// image per worker, 24.7 / 24.5 with the last stages on four. Each image's features are those
    /// of a batch of it alone, to rounding (oneDNN blocks a product of more images differently).
    public func encode(pixels: UnsafePointer<Float>, batch: Int) -> [Float] {
        let workers = max(BLAS.threads, 1)
        let each = batch / workers, shared = batch - workers * each
        let d = configuration.projectionDim
        var out = [Float](repeating: 0, count: batch * d)
        out.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedPointer(buffer.baseAddress!)
            if each > 0 {
                Parallel.forTasks(workers) { worker in
                    Parallel.onThisThreadOnly {
                        for first in stride(from: worker * each, to: (worker + 1) * each, by: Self.imagesPerWorker) {
                            let count = min(Self.imagesPerWorker, (worker + 1) * each - first)
                            let features = encodeImages(pixels: pixels + first * imageFloats, batch: count)
                            (out.pointer + first * d).update(from: features, count: count * d)
                        }
                    }
                }
            }
            if shared > 0 {
                let first = workers * each
                let features = encodeImages(pixels: pixels + first * imageFloats, batch: shared)
                (out.pointer + first * d).update(from: features, count: shared * d)
            }
        }
        return out
    }

    private var imageFloats: Int { 3 * configuration.imageSize * configuration.imageSize }

    /// The stem and the stages before the last two image by image, then the last two stages and the
    /// attention pool on all `batch` images at once.
    private func encodeImages(pixels: UnsafePointer<Float>, batch: Int) -> [Float] {
        let late = max(stages.count - 2, 0)
        var gathered: Tensor?
        var (h, w) = (0, 0)
        for image in 0..<batch {
            var (x, ih, iw) = stemForward(pixels: pixels + image * imageFloats, batch: 1)
            for block in stages[..<late].joined() {
                x = block.forward(x, batch: 1, height: ih, width: iw)
                (ih, iw) = (ih / block.stride, iw / block.stride)
            }
            guard batch > 1 else { (gathered, h, w) = (x, ih, iw); break }
            if gathered == nil { (gathered, h, w) = (Tensor(uninitialized: [batch] + x.shape.dropFirst()), ih, iw) }
            (gathered!.pointer + image * x.count).update(from: x.pointer, count: x.count)
        }
        guard var x = gathered else { return [] }
        for block in stages[late...].joined() {
            x = block.forward(x, batch: batch, height: h, width: w)
            (h, w) = (h / block.stride, w / block.stride)
        }
        return pool.forward(x.pointer, batch: batch, positionCount: h * w)
    }

    /// The stem's output [B, S/4, S/4, width] of pixels [B, 3, S, S] (channels-first, as preprocessed).
    func stemForward(pixels: UnsafePointer<Float>, batch: Int) -> (Tensor, Int, Int) {
        let s = configuration.imageSize
        let channelsLast = Tensor(uninitialized: [batch, s, s, 3])
        for b in 0..<batch {
            for c in 0..<3 {
                let plane = pixels + (b * 3 + c) * s * s, out = channelsLast.pointer + b * s * s * 3 + c
                for i in 0..<(s * s) { out[3 * i] = plane[i] }
            }
        }
        var x = channelsLast, (h, w) = (s, s)
        for conv in stem {
            let (oh, ow) = conv.outputSize(height: h, width: w)
            let y = Tensor(uninitialized: [batch, oh, ow, conv.outChannels])
            conv.forward(out: y.pointer, inp: x.pointer, batch: batch, height: h, width: w, relu: true)
            (x, h, w) = (y, oh, ow)
        }
        return (pooled(x, batch: batch, height: h, width: w, size: 2), h / 2, w / 2)
    }

    public var packedImplementation: String? { stem[0].implementation }

    /// Bytes of weights the tower holds.
    public var bytes: Int {
        stem.reduce(0) { $0 + $1.bytes } + pool.bytes + stages.joined().reduce(0) { total, block in
            total + block.reduce.bytes + block.spatial.bytes + block.expand.bytes + (block.shortcut?.bytes ?? 0)
        }
    }

    public var flopsPerImage: (written: Double, performed: Double) {
        var total = 0.0, (h, w) = (configuration.imageSize, configuration.imageSize)
        func add(_ conv: Convolution, _ h: Int, _ w: Int) {
            let (oh, ow) = conv.outputSize(height: h, width: w)
            total += 2 * Double(oh * ow * conv.outChannels * conv.kernel * conv.kernel * conv.inChannels)
        }
        for conv in stem {
            add(conv, h, w)
            (h, w) = conv.outputSize(height: h, width: w)
        }
        (h, w) = (h / 2, w / 2)
        for block in stages.joined() {
            add(block.reduce, h, w)
            add(block.spatial, h, w)
            (h, w) = (h / block.stride, w / block.stride)
            add(block.expand, h, w)
            if let shortcut = block.shortcut { add(shortcut, h, w) }
        }
        let pooling = pool.flops(positionCount: h * w)
        return (total + pooling.written, total + pooling.performed)
    }
}

/// Average pooling into a new tensor (see `AveragePool`).
private func pooled(_ x: Tensor, batch: Int, height h: Int, width w: Int, size: Int) -> Tensor {
    let channels = x.count / (batch * h * w)
    let y = Tensor(uninitialized: [batch, h / size, w / size, channels])
    AveragePool.forward(out: y.pointer, inp: x.pointer, batch: batch, height: h, width: w, channels: channels, size: size)
    return y
}

/// An output buffer the workers write disjoint rows of.
private struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
