/// LMPT's class-specific embedding loss in the official code's token form (lmpt/train.py with
/// lmpt/csel.py `SoftMarginHingeEmbeddingLoss`), for reproduction. It compares token-embedding
/// sequences, not encoder outputs: caption token embeddings a [N, L, W] (CLIP's
/// `token_embedding` of the tokenised caption, constants) against the prompt token embeddings
/// b [C, L, W] (SOS, context vectors, class-name tokens, EOS, padding), with an offset M_cse.
/// Both share the length L (77 in the official code, padding included); the gradient covers
/// every prompt position, and the caller keeps the rows of its context vectors.
///
///   x_kcp = 1 − cos(a[k, p], b[c, p + M])              p = 0 ..< L − M
///   S_kc  = (2·y_kc − 1)·Σ_p x_kcp
///   h_kc  = max(0, m_c − S_kc),  m_c = m / n_c^(1/4)
///   L     = (1/NC)·Σ_kc ω_c·h_kc,  ω_c = n_c^−γ / Σ_j n_j^−γ
///
/// What the official code does, with its quirks kept or noted:
/// - Caption position p meets prompt position p + M (`captions_[:, :77−M]` against
///   `prompt_learner()[:, M:]`): the sequences are shifted, not aligned from position M on.
/// - The hinge takes a distance where a similarity belongs, so positives are pushed until
///   Σ_p x ≥ m_c and negatives are pulled together (m_c + Σ_p x never reaches 0): the opposite of
///   the paper's description. Kept as is.
/// - The official call passes softmax(n) over the classes as the "class counts" (it underflows to
///   0 for any class well below the largest, making margins infinite) and normalises ω with a
///   sum over a dimension its 2-D tensor does not have (it raises IndexError as published).
///   Here the counts are n_c, as the paper's formulas say, and ω is normalised over the classes.
/// - γ = 2 and m = 0.2 are the values the official training uses; M = 2 is `--m_ctx`.
public struct ClassSpecificTokenEmbeddingLoss: Sendable {
    /// n_c, training images per class [C].
    public let classCounts: [Int]
    /// m, the margin of a class seen once (0.2).
    public let margin: Float
    /// γ, the re-weighting exponent (2).
    public let reweighting: Float
    /// M_cse, the position shift between prompt and caption (2).
    public let offset: Int
    private let terms: EmbeddingClassTerms

    /// A token-level CSE for C = classCounts.count classes (counts ≥ 1, offset ≥ 0).
    public init(classCounts: [Int], margin: Float = 0.2, reweighting: Float = 2, offset: Int = 2) throws {
        guard offset >= 0 else { throw TuningError.invalidArgument("CSE token offset is \(offset); it must be ≥ 0") }
        terms = try EmbeddingClassTerms(classCounts: classCounts, margin: margin, reweighting: reweighting)
        self.classCounts = classCounts
        self.margin = margin
        self.reweighting = reweighting
        self.offset = offset
    }

    /// Checks a [N, L, W], b [C, L, W], y [N, C] and returns (N, L).
    private func shapes(captionTokens: [Float], promptTokens: [Float], labels: [Float], width: Int) throws -> (images: Int, length: Int) {
        let classes = classCounts.count
        guard width > 0 else { throw TuningError.invalidArgument("token width is \(width)") }
        try LossInputs.checkBinary(labels)
        guard labels.count % classes == 0, !labels.isEmpty else {
            throw TuningError.invalidArgument("\(labels.count) labels is not N × \(classes) classes")
        }
        guard promptTokens.count % (classes * width) == 0 else {
            throw TuningError.invalidArgument("\(promptTokens.count) prompt token values is not \(classes) × L × \(width)")
        }
        let images = labels.count / classes, length = promptTokens.count / (classes * width)
        guard length > offset else {
            throw TuningError.invalidArgument("prompts of \(length) tokens leave nothing to compare after offset \(offset)")
        }
        guard captionTokens.count == images * length * width else {
            throw TuningError.invalidArgument(
                "\(captionTokens.count) caption token values; \(images) × \(length) × \(width) expected")
        }
        return (images, length)
    }

    /// Norms of the token vectors (floored at 1e-8) [count]; cosines divide raw dot products by
    /// them, so no normalised copy of the sequences is made.
    private static func tokenNorms(_ x: [Float], count: Int, width: Int) -> [Double] {
        var norms = [Double](repeating: 0, count: count)
        x.withUnsafeBufferPointer { x in
            for r in 0..<count { norms[r] = LossMath.norm(x.baseAddress! + r * width, count: width) }
        }
        return norms
    }

    /// Σ_p x_kcp [N, C], and the cosines [N, C, L − M] when `keepCosines` (for the backward).
    private func distanceSums(
        _ a: [Float], _ aNorms: [Double], _ b: [Float], _ bNorms: [Double], images: Int, length: Int, width: Int,
        keepCosines: Bool
    ) -> (sums: [Double], cosines: [Double]) {
        let classes = classCounts.count, compared = length - offset
        var sums = [Double](repeating: 0, count: images * classes)
        var cosines = [Double](repeating: 0, count: keepCosines ? images * classes * compared : 0)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                cosines.withUnsafeMutableBufferPointer { kept in
                    for k in 0..<images {
                        for c in 0..<classes {
                            var sum = 0.0
                            for p in 0..<compared {
                                let i = k * length + p, j = c * length + p + offset
                                let dot = LossMath.dot(a.baseAddress! + i * width, b.baseAddress! + j * width, count: width)
                                let cosine = dot / (aNorms[i] * bNorms[j])
                                if keepCosines { kept[(k * classes + c) * compared + p] = cosine }
                                sum += 1 - cosine
                            }
                            sums[k * classes + c] = sum
                        }
                    }
                }
            }
        }
        return (sums, cosines)
    }

    /// L, accumulated in Double.
    func value(captionTokens: [Float], promptTokens: [Float], labels: [Float], width: Int) throws -> Double {
        let (images, length) = try shapes(captionTokens: captionTokens, promptTokens: promptTokens, labels: labels, width: width)
        let classes = classCounts.count
        let aNorms = Self.tokenNorms(captionTokens, count: images * length, width: width)
        let bNorms = Self.tokenNorms(promptTokens, count: classes * length, width: width)
        let sums = distanceSums(
            captionTokens, aNorms, promptTokens, bNorms, images: images, length: length, width: width, keepCosines: false
        ).sums
        var total = 0.0
        for k in 0..<images {
            for c in 0..<classes {
                let signed = labels[k * classes + c] == 1 ? sums[k * classes + c] : -sums[k * classes + c]
                total += terms.weights[c] * max(0, terms.margins[c] - signed)
            }
        }
        return total / Double(images * classes)
    }

    /// The loss value; `width` is W, the token-embedding width.
    public func forward(captionTokens: [Float], promptTokens: [Float], labels: [Float], width: Int) throws -> Float {
        Float(try value(captionTokens: captionTokens, promptTokens: promptTokens, labels: labels, width: width))
    }

    /// dL/db [C, L, W] (times `outputGradient`); positions before M get none. With
    /// G_kc = dL/dΣ_p x_kcp = −(2y − 1)·ω_c/NC on an active hinge (0 otherwise) and
    /// d cos(a, b)/db = (â − cos·b̂)/‖b‖: dL/db[c, q] = −Σ_k G_kc·(â[k, q − M] − cos·b̂[c, q])/‖b[c, q]‖.
    public func backward(captionTokens: [Float], promptTokens: [Float], labels: [Float], width: Int, outputGradient: Float = 1) throws -> [Float] {
        let (images, length) = try shapes(captionTokens: captionTokens, promptTokens: promptTokens, labels: labels, width: width)
        let classes = classCounts.count, compared = length - offset
        let aNorms = Self.tokenNorms(captionTokens, count: images * length, width: width)
        let bNorms = Self.tokenNorms(promptTokens, count: classes * length, width: width)
        let (sums, cosines) = distanceSums(
            captionTokens, aNorms, promptTokens, bNorms, images: images, length: length, width: width, keepCosines: true)
        let scale = Double(outputGradient) / Double(images * classes)
        var pairGradient = [Double](repeating: 0, count: images * classes)   // G_kc
        for k in 0..<images {
            for c in 0..<classes {
                let sign: Double = labels[k * classes + c] == 1 ? 1 : -1
                if terms.margins[c] - sign * sums[k * classes + c] > 0 {
                    pairGradient[k * classes + c] = -sign * scale * terms.weights[c]
                }
            }
        }
        var gradient = [Float](repeating: 0, count: promptTokens.count)
        let pull = UnsafeMutablePointer<Double>.allocate(capacity: width)   // Σ_k G_kc·â[k, p]
        defer { pull.deallocate() }
        captionTokens.withUnsafeBufferPointer { a in
            promptTokens.withUnsafeBufferPointer { b in
                gradient.withUnsafeMutableBufferPointer { out in
                    for c in 0..<classes {
                        for p in 0..<compared {
                            let q = c * length + p + offset
                            let prompt = b.baseAddress! + q * width
                            pull.update(repeating: 0, count: width)
                            var alongB = 0.0                    // Σ_k G_kc·cos
                            for k in 0..<images {
                                let g = pairGradient[k * classes + c]
                                if g == 0 { continue }
                                let r = k * length + p
                                let caption = a.baseAddress! + r * width
                                alongB += g * cosines[(k * classes + c) * compared + p]
                                let gOverNorm = g / aNorms[r]
                                for i in 0..<width { pull[i] += gOverNorm * Double(caption[i]) }
                            }
                            // dΣx/db = −d cos/db = −(â − cos·b̂)/‖b‖
                            let factor = -1 / bNorms[q]
                            let alongUnitB = alongB / bNorms[q]
                            let row = out.baseAddress! + q * width
                            for i in 0..<width {
                                row[i] = Float(factor * (pull[i] - alongUnitB * Double(prompt[i])))
                            }
                        }
                    }
                }
            }
        }
        return gradient
    }
}
