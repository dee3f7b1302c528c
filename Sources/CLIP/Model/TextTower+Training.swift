import Compute

/// What a training forward of the text tower keeps for its backward.
public final class TextTrace {
    public let batch: Int, tokens: Int
    public let poolIndices: [Int]
    let stack: TransformerTrace
    let finalMean: Tensor, finalRstd: Tensor   // [B]
    let pooledInput: Tensor                   // [B, C] residual state at the pooled positions
    let pooled: Tensor                        // [B, C] after ln_final

    init(batch: Int, tokens: Int, poolIndices: [Int], configuration: TowerConfiguration) {
        self.batch = batch
        self.tokens = tokens
        self.poolIndices = poolIndices
        stack = TransformerTrace(batch: batch, tokens: tokens, configuration: configuration, readOut: poolIndices)
        finalMean = Tensor(zeros: [batch]); finalRstd = Tensor(zeros: [batch])
        pooledInput = Tensor(zeros: [batch, configuration.width])
        pooled = Tensor(zeros: [batch, configuration.width])
    }

    /// Floats held for the backward pass (for memory reports).
    public var floatCount: Int { stack.floatCount + 2 * batch + pooledInput.count + pooled.count }
}

extension TextTower {
    /// Training forward from input embeddings x [B, T, C] (token + position embeddings, with learned
    /// context vectors where the prompt has them): projected features [B, D] and the trace for `backward`.
    /// `x` is overwritten with the final residual stream.
    public func forwardTraining(embeddings x: Tensor, batch: Int, tokens: Int, poolAt indices: [Int]) -> (features: [Float], trace: TextTrace) {
        let cfg = configuration, c = cfg.text.width
        let trace = TextTrace(batch: batch, tokens: tokens, poolIndices: indices, configuration: cfg.text)
        transformer.forward(x.pointer, causal: true, trace: trace.stack)
        for b in 0..<batch {
            trace.pooledInput.pointer.advanced(by: b * c).update(from: x.pointer + (b * tokens + indices[b]) * c, count: c)
        }
        LayerNorm.forward(out: trace.pooled.pointer, mean: trace.finalMean.pointer, rstd: trace.finalRstd.pointer,
                          inp: trace.pooledInput.pointer, weight: finalLNWeight.pointer, bias: finalLNBias.pointer,
                          rows: batch, channels: c, eps: cfg.text.layerNormEps)
        var features = [Float](repeating: 0, count: batch * cfg.projectionDim)
        features.withUnsafeMutableBufferPointer { out in
            Linear.forward(out: out.baseAddress!, inp: trace.pooled.pointer, weight: projection.pointer, bias: nil,
                           rows: batch, inFeatures: c, outFeatures: cfg.projectionDim)
        }
        return (features, trace)
    }

    /// ∂L/∂(input embeddings) [B, T, C] from ∂L/∂features [B, D]: the training forward's calls in
    /// reverse (projection, ln_final at the pooled rows, the layers). One backward per trace.
    public func backward(featureGradient: [Float], trace: TextTrace) -> Tensor {
        let cfg = configuration, c = cfg.text.width, batch = trace.batch
        precondition(featureGradient.count == batch * cfg.projectionDim, "feature gradient must be [B, D]")
        let dPooled = Tensor(zeros: [batch, c])
        featureGradient.withUnsafeBufferPointer { dF in
            Linear.backward(dinp: dPooled.pointer, dweight: nil, dbias: nil, dout: dF.baseAddress!, inp: trace.pooled.pointer,
                            weight: projection.pointer, rows: batch, inFeatures: c, outFeatures: cfg.projectionDim)
        }
        let dx = Tensor(zeros: [batch, trace.tokens, c])
        let dPooledInput = Tensor(zeros: [batch, c])
        LayerNorm.backward(dinp: dPooledInput.pointer, dweight: nil, dbias: nil, dout: dPooled.pointer,
                           inp: trace.pooledInput.pointer, weight: finalLNWeight.pointer,
                           mean: trace.finalMean.pointer, rstd: trace.finalRstd.pointer, rows: batch, channels: c)
        for b in 0..<batch {
            (dx.pointer + (b * trace.tokens + trace.poolIndices[b]) * c).update(from: dPooledInput.pointer + b * c, count: c)
        }
        transformer.backward(dx.pointer, trace: trace.stack)
        return dx
    }

    /// Token + position embeddings [B, T, C] of id sequences padded to `tokens` with id 0.
    public func embed(tokens sequences: [[Int32]], length tokens: Int) -> Tensor {
        let c = configuration.text.width
        let x = Tensor(zeros: [sequences.count, tokens, c])
        for (b, ids) in sequences.enumerated() {
            for t in 0..<tokens {
                let row = x.pointer + (b * tokens + t) * c
                let id = t < ids.count ? Int(ids[t]) : 0
                let embedding = tokenEmbedding.pointer + id * c, position = positions.pointer + t * c
                for i in 0..<c { row[i] = embedding[i] + position[i] }
            }
        }
        return x
    }

    /// The token embedding table [V, C] (prompt learners initialise context vectors from it).
    public var tokenEmbeddings: Tensor { tokenEmbedding }
    /// The position embeddings [L, C].
    public var positionEmbeddings: Tensor { positions }
}
