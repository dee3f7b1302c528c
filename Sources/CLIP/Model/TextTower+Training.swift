import Compute

/// What a training forward of the text tower keeps for its backward.
public final class TextTrace {
    public let layout: SequenceLayout
    /// The pooled row of each sequence, as an index into the N rows of the residual stream.
    public let pooledRows: [Int]
    let stack: TransformerTrace
    let finalMean: Tensor, finalRstd: Tensor   // [B]
    let pooledInput: Tensor                   // [B, C] residual state at the pooled positions
    let pooled: Tensor                        // [B, C] after ln_final

    init(layout: SequenceLayout, pooledRows: [Int], readOut: [Int]?, configuration: TowerConfiguration) {
        self.layout = layout
        self.pooledRows = pooledRows
        stack = TransformerTrace(layout: layout, configuration: configuration, readOut: readOut)
        let batch = pooledRows.count
        finalMean = Tensor(zeros: [batch]); finalRstd = Tensor(zeros: [batch])
        pooledInput = Tensor(zeros: [batch, configuration.width])
        pooled = Tensor(zeros: [batch, configuration.width])
    }

    /// Floats held for the backward pass (for memory reports).
    public var floatCount: Int { stack.floatCount + finalMean.count + finalRstd.count + pooledInput.count + pooled.count }
}

extension TextTower {
    /// Training forward from input embeddings x [B, T, C] (token + position embeddings, with learned
    /// context vectors where the prompt has them): projected features [B, D] and the trace for `backward`.
    /// `x` is overwritten with the final residual stream.
    public func forwardTraining(embeddings x: Tensor, batch: Int, tokens: Int, poolAt indices: [Int]) -> (features: [Float], trace: TextTrace) {
        let trace = TextTrace(layout: .separate(batch: batch, tokens: tokens),
                              pooledRows: indices.enumerated().map { $0.offset * tokens + $0.element }, readOut: indices,
                              configuration: configuration.text)
        return (forwardTraining(x, trace: trace), trace)
    }

    /// Training forward of sequences that share their first `prefix` rows (one learned context for
    /// every class): x [P + S·L, C] holds the prefix once, then each sequence's `suffix` rows
    /// (`SharedPrefixAttention`); `poolAt` gives each sequence's pooled row within its suffix.
    /// Features and gradients are those of the S full sequences run separately.
    public func forwardTraining(embeddings x: Tensor, prefix: Int, sequences: Int, suffix: Int,
                                poolAt indices: [Int]) -> (features: [Float], trace: TextTrace) {
        precondition(indices.count == sequences && indices.allSatisfy { (0..<suffix).contains($0) }, "pooled rows out of range")
        let trace = TextTrace(layout: .sharedPrefix(prefix: prefix, sequences: sequences, suffix: suffix),
                              pooledRows: indices.enumerated().map { prefix + $0.offset * suffix + $0.element }, readOut: nil,
                              configuration: configuration.text)
        return (forwardTraining(x, trace: trace), trace)
    }

    private func forwardTraining(_ x: Tensor, trace: TextTrace) -> [Float] {
        let cfg = configuration, c = cfg.text.width, batch = trace.pooledRows.count
        precondition(x.count == trace.layout.rows * c, "embeddings must be [N, C] for the layout")
        transformer.forward(x.pointer, causal: true, trace: trace.stack)
        for (b, row) in trace.pooledRows.enumerated() {
            trace.pooledInput.pointer.advanced(by: b * c).update(from: x.pointer + row * c, count: c)
        }
        LayerNorm.forward(out: trace.pooled.pointer, mean: trace.finalMean.pointer, rstd: trace.finalRstd.pointer,
                          inp: trace.pooledInput.pointer, weight: finalLNWeight.pointer, bias: finalLNBias.pointer,
                          rows: batch, channels: c, eps: cfg.text.layerNormEps)
        var features = [Float](repeating: 0, count: batch * cfg.projectionDim)
        features.withUnsafeMutableBufferPointer { out in
            Linear.forward(out: out.baseAddress!, inp: trace.pooled.pointer, weight: projection.pointer, bias: nil,
                           rows: batch, inFeatures: c, outFeatures: cfg.projectionDim)
        }
        return features
    }

    /// ∂L/∂(input embeddings) [N, C] (the forward's layout) from ∂L/∂features [B, D]: the training
    /// forward's calls in reverse (projection, ln_final at the pooled rows, the layers). One backward per trace.
    public func backward(featureGradient: [Float], trace: TextTrace) -> Tensor {
        let cfg = configuration, c = cfg.text.width, batch = trace.pooledRows.count
        precondition(featureGradient.count == batch * cfg.projectionDim, "feature gradient must be [B, D]")
        let dPooled = Tensor(zeros: [batch, c])
        featureGradient.withUnsafeBufferPointer { dF in
            Linear.backward(dinp: dPooled.pointer, dweight: nil, dbias: nil, dout: dF.baseAddress!, inp: trace.pooled.pointer,
                            weight: projection.pointer, rows: batch, inFeatures: c, outFeatures: cfg.projectionDim)
        }
        let dx = Tensor(zeros: [trace.layout.rows, c])
        let dPooledInput = Tensor(zeros: [batch, c])
        LayerNorm.backward(dinp: dPooledInput.pointer, dweight: nil, dbias: nil, dout: dPooled.pointer,
                           inp: trace.pooledInput.pointer, weight: finalLNWeight.pointer,
                           mean: trace.finalMean.pointer, rstd: trace.finalRstd.pointer, rows: batch, channels: c)
        for (b, row) in trace.pooledRows.enumerated() {
            (dx.pointer + row * c).update(from: dPooledInput.pointer + b * c, count: c)
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
