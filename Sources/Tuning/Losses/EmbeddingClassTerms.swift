import Foundation

/// The class-aware terms of LMPT's class-specific embedding loss (lmpt/csel.py): the soft
/// margin m_c = m / n_c^(1/4) (rarer class, larger margin) and the re-weighting
/// ω_c = n_c^−γ / Σ_j n_j^−γ (rarer class, larger weight; Σ_c ω_c = 1).
struct EmbeddingClassTerms: Sendable {
    /// m_c [C].
    let margins: [Double]
    /// ω_c [C].
    let weights: [Double]

    init(classCounts: [Int], margin: Float, reweighting gamma: Float) throws {
        try LossInputs.checkClassCounts(classCounts)
        try LossInputs.checkParameter("CSE margin", margin, nonNegative: true)
        try LossInputs.checkParameter("CSE γ", gamma, nonNegative: true)
        margins = classCounts.map { Double(margin) / pow(Double($0), 0.25) }
        let inverse = classCounts.map { pow(1 / Double($0), Double(gamma)) }
        let total = inverse.reduce(0, +)
        weights = inverse.map { $0 / total }
    }
}
