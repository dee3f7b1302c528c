import Compute

/// CLIP's ViT image encoder (forward only; the encoder is frozen):
/// patchify as one GEMM → [class; patches] + positions → ln_pre → layers → ln_post(class token) → projection.
/// With `packing`, the patch embedding and the layers' matrices are held only packed for oneDNN.
public final class VisionTower: ImageTower {
    public let configuration: CLIPConfiguration
    let patchWeight: Tensor?       // [C, 3·p·p] (the conv kernel [C, 3, p, p] flattened), when not packed
    let packedPatchWeight: PackedWeight?
    let classEmbedding: Tensor     // [C]
    let positions: Tensor          // [1 + P, C]
    let preLNWeight: Tensor, preLNBias: Tensor
    let transformer: TransformerStack
    let postLNWeight: Tensor, postLNBias: Tensor
    let projection: Tensor         // [D, C]

    init(loader: WeightLoader, configuration: CLIPConfiguration, packing: Precision?) throws {
        self.configuration = configuration
        let c = configuration.vision.width, p = configuration.patchSize
        func load(_ part: CheckpointLayout.GlobalPart, _ shape: [Int]) throws -> Tensor {
            try loader.load(CheckpointLayout.source(part, layout: loader.layout), shape: shape)
        }
        let patches = try load(.patchEmbedding, [c, 3, p, p])   // row-major [C, 3·p·p] already
        packedPatchWeight = try packing.map {
            try PackedWeight(patches.pointer, outFeatures: c, inFeatures: 3 * p * p, precision: $0)
        }
        patchWeight = packing == nil ? patches.reshaped([c, 3 * p * p]) : nil
        classEmbedding = try load(.classEmbedding, [c])
        positions = try load(.visionPositions, [1 + configuration.patchCount, c])
        preLNWeight = try load(.preLNWeight, [c]); preLNBias = try load(.preLNBias, [c])
        transformer = try TransformerStack(loader: loader, tower: .vision, configuration: configuration.vision,
                                           packing: packing, keepsMatrices: false)
        postLNWeight = try load(.postLNWeight, [c]); postLNBias = try load(.postLNBias, [c])
        projection = try load(.visionProjection, [configuration.projectionDim, c])
    }

    /// Projected image features [B, D] (not normalised) of preprocessed pixels [B, 3, S, S].
    public func encode(pixels: UnsafePointer<Float>, batch: Int) -> [Float] {
        let cfg = configuration
        let (c, p, g, s) = (cfg.vision.width, cfg.patchSize, cfg.patchesPerSide, cfg.imageSize)
        let patches = cfg.patchCount, tokens = 1 + patches, kernel = 3 * p * p

        // Unfold every patch into a row ordered (channel, ky, kx), as the conv kernel is flattened.
        let unfolded = Tensor(zeros: [batch * patches, kernel])
        for b in 0..<batch {
            let image = pixels + b * 3 * s * s
            for gy in 0..<g {
                for gx in 0..<g {
                    var row = unfolded.pointer + ((b * patches) + gy * g + gx) * kernel
                    for ch in 0..<3 {
                        for ky in 0..<p {
                            let src = image + ch * s * s + (gy * p + ky) * s + gx * p
                            row.update(from: src, count: p)
                            row += p
                        }
                    }
                }
            }
        }
        // Every image's patches · Wᵀ in one product (many rows: whole-width shares per worker), then
        // x[b, 0] = class embedding, x[b, 1…] = its patch rows, + positions; then ln_pre.
        let embedded = Tensor(zeros: [batch * patches, c])
        if let packedPatchWeight {
            packedPatchWeight.forward(out: embedded.pointer, inp: unfolded.pointer, rows: batch * patches, bias: nil)
        } else if let patchWeight {
            gemm(transA: false, transB: true, m: batch * patches, n: c, k: kernel, a: unfolded.pointer, lda: kernel,
                 b: patchWeight.pointer, ldb: kernel, c: embedded.pointer, ldc: c)
        }
        let x = Tensor(zeros: [batch, tokens, c])
        for b in 0..<batch {
            let xb = x.pointer + b * tokens * c
            xb.update(from: classEmbedding.pointer, count: c)
            (xb + c).update(from: embedded.pointer + b * patches * c, count: patches * c)
            for i in 0..<(tokens * c) { xb[i] += positions.pointer[i] }
        }
        LayerNorm.forward(out: x.pointer, mean: nil, rstd: nil, inp: x.pointer,
                          weight: preLNWeight.pointer, bias: preLNBias.pointer,
                          rows: batch * tokens, channels: c, eps: cfg.vision.layerNormEps)
        // Only the class token is read out: the last layer runs for it alone.
        transformer.forward(x.pointer, batch: batch, tokens: tokens, causal: false,
                            readOut: [Int](repeating: 0, count: batch))

        // ln_post on each class token, then the projection.
        let pooled = Tensor(zeros: [batch, c])
        for b in 0..<batch {
            LayerNorm.forward(out: pooled.pointer + b * c, mean: nil, rstd: nil, inp: x.pointer + b * tokens * c,
                              weight: postLNWeight.pointer, bias: postLNBias.pointer,
                              rows: 1, channels: c, eps: cfg.vision.layerNormEps)
        }
        var features = [Float](repeating: 0, count: batch * cfg.projectionDim)
        features.withUnsafeMutableBufferPointer { out in
            Linear.forward(out: out.baseAddress!, inp: pooled.pointer, weight: projection.pointer, bias: nil,
                           rows: batch, inFeatures: c, outFeatures: cfg.projectionDim)
        }
        return features
    }

    public var packedImplementation: String? { packedPatchWeight?.implementation }

    /// Written: patch GEMM, every layer for every token, projection. Performed: the last layer
    /// computes keys and values for every token but the rest for the class token alone.
    public var flopsPerImage: (written: Double, performed: Double) {
        let cfg = configuration
        let c = Double(cfg.vision.width), f = Double(cfg.vision.mlpWidth)
        let p = Double(cfg.patchCount), t = p + 1, k = Double(3 * cfg.patchSize * cfg.patchSize)
        let perLayer = 2 * t * (3 * c * c + c * c + 2 * c * f) + 2 * 2 * t * t * c
        let written = 2 * p * k * c + Double(cfg.vision.layers) * perLayer + 2 * c * Double(cfg.projectionDim)
        let readOut = 2 * t * 2 * c * c + 2 * (c * c + c * c + 2 * c * f) + 2 * 2 * t * c
        return (written, written - (cfg.vision.layers > 0 ? perLayer - readOut : 0))
    }

    /// For benchmarks: the layers' projections alone for `batch` images (see `projectionsOnly`).
    public func benchmarkProjections(batch: Int) {
        transformer.projectionsOnly(batch: batch, tokens: 1 + configuration.patchCount)
    }
}
