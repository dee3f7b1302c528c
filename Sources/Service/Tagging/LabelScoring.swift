import Compute
import Foundation
import Tuning

/// One label of one image in a tagging response.
struct TagLabel: Encodable, Sendable, Equatable {
    let label: String
    let score: Float
    let threshold: Float
    let present: Bool
    /// s·cos(image, class), for zero-shot labels (whose score is a softmax over the given classes).
    let logit: Float?

    enum CodingKeys: String, CodingKey { case label, score, threshold, present, logit }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(label, forKey: .label)
        try c.encode(score, forKey: .score)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(present, forKey: .present)
        try c.encodeIfPresent(logit, forKey: .logit)
    }
}

/// Turns image features into labels, sorted by score (highest first, ties in class order),
/// cut to `top_k`.
enum LabelScoring {
    /// A tuned prompt set: score = sigmoid(s·cos − θ_c), present when score ≥ the class's threshold
    /// (or the request's one threshold).
    static func promptSetLabels(imageFeatures: [Float], promptSet: PromptSet, logitScale: Float,
                                threshold override: Float?, topK: Int?) -> [[TagLabel]] {
        let manifest = promptSet.manifest
        let c = manifest.classes.count
        let normalized = L2Normalize.rows(imageFeatures, width: manifest.encoder.projectionDim)
        let scores = promptSet.scores(imageFeatures: normalized, logitScale: logitScale)
        let n = scores.count / c
        return (0..<n).map { i in
            let labels = (0..<c).map { j in
                let score = scores[i * c + j], threshold = override ?? manifest.thresholds[j]
                return TagLabel(label: manifest.classes[j], score: score, threshold: threshold, present: score >= threshold, logit: nil)
            }
            return ranked(labels, topK: topK)
        }
    }

    /// Zero-shot: logits s·cos against "a photo of a {class}." and their softmax over the
    /// given classes as the score; present when score ≥ threshold (0.5 unless given).
    static func zeroShotLabels(imageFeatures: [Float], classes: [String], classFeatures: [Float], logitScale: Float,
                               dimension d: Int, threshold: Float?, topK: Int?) -> [[TagLabel]] {
        let c = classes.count
        let images = L2Normalize.rows(imageFeatures, width: d)
        let n = images.count / d
        var logits = [Float](repeating: 0, count: n * c)
        images.withUnsafeBufferPointer { a in classFeatures.withUnsafeBufferPointer { b in logits.withUnsafeMutableBufferPointer { out in
            gemm(transA: false, transB: true, m: n, n: c, k: d, alpha: logitScale,
                 a: a.baseAddress!, lda: d, b: b.baseAddress!, ldb: d, c: out.baseAddress!, ldc: c)
        } } }
        let cut = threshold ?? 0.5
        return (0..<n).map { i in
            let row = logits[(i * c)..<((i + 1) * c)]
            let top = row.max() ?? 0
            let exps = row.map { Foundation.exp($0 - top) }
            let total = exps.reduce(0, +)
            let labels = (0..<c).map { j in
                let score = exps[j] / total
                return TagLabel(label: classes[j], score: score, threshold: cut, present: score >= cut, logit: row[row.startIndex + j])
            }
            return ranked(labels, topK: topK)
        }
    }

    static func ranked(_ labels: [TagLabel], topK: Int?) -> [TagLabel] {
        let sorted = labels.enumerated().sorted { a, b in
            a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset
        }.map(\.element)
        return topK.map { Array(sorted.prefix($0)) } ?? sorted
    }
}
