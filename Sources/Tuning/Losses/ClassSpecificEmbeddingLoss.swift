/// LMPT's class-specific embedding loss (CSE) in TagTune's feature form: caption features
/// u [N, D] (constants) against class prompt features t [C, D], both compared by cosine (the
/// loss normalises them):
///
///   d_kc = 1 − cos(u_k, t_c)
///   ℓ_kc = d_kc if y_kc = 1, else max(0, m_c − d_kc)      (hinge embedding loss)
///   m_c  = m / n_c^(1/4),  ω_c ∝ n_c^−γ
///   L    = (1/N)·Σ_k Σ_c ω_c·ℓ_kc          with mean(ω) = 1   (`class_sum`, the default)
///   L    = (1/NC)·Σ_kc ω_c·ℓ_kc            with Σω = 1        (`official`)
///
/// The official form is the official code's `(hinge_loss * class_weights).mean()`; it is C²
/// times smaller, which leaves the term without practical effect (see `EmbeddingLossReduction`).
/// γ = 2 is that class's default, which LMPT's training uses (its `--gamma` flag is not passed to it).
public struct ClassSpecificEmbeddingLoss: Sendable {
    /// n_c, training images per class [C].
    public let classCounts: [Int]
    /// m, the margin of a class seen once (0.2).
    public let margin: Float
    /// γ, the re-weighting exponent (2).
    public let reweighting: Float
    /// How the per-pair terms are reduced.
    public let reduction: EmbeddingLossReduction
    private let terms: EmbeddingClassTerms

    /// A CSE for C = classCounts.count classes (counts ≥ 1).
    public init(classCounts: [Int], margin: Float = 0.2, reweighting: Float = 2, reduction: EmbeddingLossReduction = .classSum) throws {
        terms = try EmbeddingClassTerms(classCounts: classCounts, margin: margin, reweighting: reweighting, reduction: reduction)
        self.classCounts = classCounts
        self.margin = margin
        self.reweighting = reweighting
        self.reduction = reduction
    }

    /// Checks u [N, D], t [C, D], y [N, C] and returns (N, D).
    private func shapes(captionFeatures: [Float], classFeatures: [Float], labels: [Float]) throws -> (images: Int, width: Int) {
        let classes = classCounts.count
        try LossInputs.checkBinary(labels)
        guard labels.count % classes == 0, !labels.isEmpty else {
            throw TuningError.invalidArgument("\(labels.count) labels is not N × \(classes) classes")
        }
        guard classFeatures.count % classes == 0, !classFeatures.isEmpty else {
            throw TuningError.invalidArgument("\(classFeatures.count) class feature values is not \(classes) × D")
        }
        let images = labels.count / classes, width = classFeatures.count / classes
        guard captionFeatures.count == images * width else {
            throw TuningError.invalidArgument(
                "\(captionFeatures.count) caption feature values; \(images) images × \(width) expected")
        }
        return (images, width)
    }

    /// Rows scaled to unit norm (floored at 1e-8), with the norms: [rows, width], [rows].
    static func normalisedRows(_ x: [Float], rows: Int, width: Int) -> (unit: [Double], norms: [Double]) {
        var unit = [Double](repeating: 0, count: x.count)
        var norms = [Double](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { x in
            for r in 0..<rows {
                let row = x.baseAddress! + r * width
                let norm = LossMath.norm(row, count: width)
                norms[r] = norm
                for i in 0..<width { unit[r * width + i] = Double(row[i]) / norm }
            }
        }
        return (unit, norms)
    }

    /// cos(u_k, t_c) [N, C] from unit rows.
    private static func cosines(_ u: [Double], _ t: [Double], images: Int, classes: Int, width: Int) -> [Double] {
        var cosines = [Double](repeating: 0, count: images * classes)
        for k in 0..<images {
            for c in 0..<classes {
                var dot = 0.0
                for i in 0..<width { dot += u[k * width + i] * t[c * width + i] }
                cosines[k * classes + c] = dot
            }
        }
        return cosines
    }

    /// L, accumulated in Double.
    func value(captionFeatures: [Float], classFeatures: [Float], labels: [Float]) throws -> Double {
        let (images, width) = try shapes(captionFeatures: captionFeatures, classFeatures: classFeatures, labels: labels)
        let classes = classCounts.count
        let u = Self.normalisedRows(captionFeatures, rows: images, width: width).unit
        let t = Self.normalisedRows(classFeatures, rows: classes, width: width).unit
        let cosines = Self.cosines(u, t, images: images, classes: classes, width: width)
        var sum = 0.0
        for k in 0..<images {
            for c in 0..<classes {
                let distance = 1 - cosines[k * classes + c]
                let ell = labels[k * classes + c] == 1 ? distance : max(0, terms.margins[c] - distance)
                sum += terms.pairWeights[c] * ell
            }
        }
        return sum / Double(images)
    }

    /// The loss value.
    public func forward(captionFeatures: [Float], classFeatures: [Float], labels: [Float]) throws -> Float {
        Float(try value(captionFeatures: captionFeatures, classFeatures: classFeatures, labels: labels))
    }

    /// dL/dt [C, D] (times `outputGradient`). With û, t̂ the unit vectors,
    /// d cos(u_k, t_c)/dt_c = (û_k − cos·t̂_c)/‖t_c‖ and dℓ/dd is 1 for a positive, −1 for an
    /// active hinge, 0 otherwise (none at the kink, as PyTorch's relu).
    public func backward(captionFeatures: [Float], classFeatures: [Float], labels: [Float], outputGradient: Float = 1) throws -> [Float] {
        let (images, width) = try shapes(captionFeatures: captionFeatures, classFeatures: classFeatures, labels: labels)
        let classes = classCounts.count
        let u = Self.normalisedRows(captionFeatures, rows: images, width: width).unit
        let (t, tNorms) = Self.normalisedRows(classFeatures, rows: classes, width: width)
        let cosines = Self.cosines(u, t, images: images, classes: classes, width: width)
        let scale = Double(outputGradient) / Double(images)
        var gradient = [Float](repeating: 0, count: classFeatures.count)
        var pull = [Double](repeating: 0, count: width)   // Σ_k g_kc·û_k
        for c in 0..<classes {
            for i in 0..<width { pull[i] = 0 }
            var alongT = 0.0                                // Σ_k g_kc·cos_kc
            for k in 0..<images {
                let cosine = cosines[k * classes + c]
                // g = dℓ/dcos: ℓ = 1 − cos for a positive, m_c − 1 + cos for an active hinge.
                let g: Double
                if labels[k * classes + c] == 1 {
                    g = -1
                } else {
                    g = terms.margins[c] - (1 - cosine) > 0 ? 1 : 0
                }
                if g == 0 { continue }
                for i in 0..<width { pull[i] += g * u[k * width + i] }
                alongT += g * cosine
            }
            let factor = scale * terms.pairWeights[c] / tNorms[c]
            for i in 0..<width {
                gradient[c * width + i] = Float(factor * (pull[i] - alongT * t[c * width + i]))
            }
        }
        return gradient
    }
}
