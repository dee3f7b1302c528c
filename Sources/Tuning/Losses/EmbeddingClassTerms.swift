import Foundation

/// How the feature-level class-specific embedding loss turns its per-pair terms into one number.
public enum EmbeddingLossReduction: String, Sendable, Codable, CaseIterable {
    /// ω normalised to mean 1 over classes, summed over classes, averaged over images:
    /// L = (1/N)·Σ_k Σ_c ω_c·ℓ_kc. The term then trades against L_cls through λ as the paper means.
    case classSum = "class_sum"
    /// The official code's `(hinge_loss * class_weights).mean()` with Σω = 1: each class weighs
    /// ω_c / C and the whole term is C² times smaller than `class_sum` (measured near 0.3% of the
    /// loss on VOC-LT-sized data). Kept to reproduce the paper's settings.
    case official
}

/// The class-aware terms of LMPT's class-specific embedding loss (lmpt/csel.py): the soft
/// margin m_c = m / n_c^(1/4) (rarer class, larger margin) and the re-weighting
/// ω_c ∝ n_c^−γ (rarer class, larger weight), with the reduction folded into the weights:
/// `pairWeights[c]` multiplies ℓ_kc, and the loss is Σ_kc pairWeights[c]·ℓ_kc / N.
struct EmbeddingClassTerms: Sendable {
    /// m_c [C].
    let margins: [Double]
    /// ω_c [C] as the reduction normalises them (Σ = 1 for `official`, mean 1 for `class_sum`).
    let weights: [Double]
    /// What ℓ_kc is multiplied by before the sum over classes and the mean over images [C].
    let pairWeights: [Double]

    init(classCounts: [Int], margin: Float, reweighting gamma: Float, reduction: EmbeddingLossReduction = .official) throws {
        try LossInputs.checkClassCounts(classCounts)
        try LossInputs.checkParameter("CSE margin", margin, nonNegative: true)
        try LossInputs.checkParameter("CSE γ", gamma, nonNegative: true)
        margins = classCounts.map { Double(margin) / pow(Double($0), 0.25) }
        let inverse = classCounts.map { pow(1 / Double($0), Double(gamma)) }
        let total = inverse.reduce(0, +), classes = Double(classCounts.count)
        switch reduction {
        case .official:
            weights = inverse.map { $0 / total }
            pairWeights = weights.map { $0 / classes }       // the mean over N·C pairs
        case .classSum:
            weights = inverse.map { $0 * classes / total }
            pairWeights = weights
        }
    }
}
