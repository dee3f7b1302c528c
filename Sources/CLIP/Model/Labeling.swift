import Compute

/// One label of one image, as every tagging path reports it (`tagtune tag`, `POST /v1/tag`).
public struct ImageLabel: Sendable, Equatable, Encodable {
    public let label: String
    /// In [0, 1]: sigmoid(z − θ) for a tuned prompt set, the softmax over the given classes for zero-shot.
    public let score: Float
    public let threshold: Float
    /// score ≥ threshold.
    public let present: Bool
    /// s·cos(image, class), reported for zero-shot labels (whose score depends on the other classes).
    public let logit: Float?

    enum CodingKeys: String, CodingKey { case label, score, threshold, present, logit }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(label, forKey: .label)
        try c.encode(score, forKey: .score)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(present, forKey: .present)
        try c.encodeIfPresent(logit, forKey: .logit)
    }
}

/// The one way image features become labels: logits s·cos(image, class), scores from them (the
/// zero-shot classifier's softmax or a prompt set's calibrated sigmoid), thresholds, ranking.
/// The command line and the server both end here, so they print the same labels for an image.
public enum Labeling {
    /// s · cos [N, C] of unit image rows [N, D] against unit class rows [C, D].
    public static func cosineLogits(images: [Float], classes: [Float], dimension d: Int, scale: Float) -> [Float] {
        let n = images.count / d, c = classes.count / d
        var out = [Float](repeating: 0, count: n * c)
        guard n > 0, c > 0 else { return out }
        images.withUnsafeBufferPointer { v in classes.withUnsafeBufferPointer { t in out.withUnsafeMutableBufferPointer { z in
            gemm(transA: false, transB: true, m: n, n: c, k: d, alpha: scale,
                 a: v.baseAddress!, lda: d, b: t.baseAddress!, ldb: d, c: z.baseAddress!, ldc: c)
        } } }
        return out
    }

    /// Labels per image from scores [N, C] and one threshold per class: present when score ≥
    /// threshold, ranked by score (ties keep class order), cut to `topK`. `logits`, when given, are
    /// reported beside the scores.
    public static func labels(classNames: [String], scores: [Float], thresholds: [Float], logits: [Float]? = nil,
                              topK: Int? = nil) -> [[ImageLabel]] {
        let c = classNames.count
        precondition(thresholds.count == c && scores.count % max(c, 1) == 0, "one threshold per class, C scores per image")
        let n = c == 0 ? 0 : scores.count / c
        return (0..<n).map { i in
            let row = i * c
            let order = (0..<c).sorted { a, b in
                scores[row + a] != scores[row + b] ? scores[row + a] > scores[row + b] : a < b
            }
            return order.prefix(max(0, topK ?? c)).map { j in
                let score = scores[row + j]
                return ImageLabel(label: classNames[j], score: score, threshold: thresholds[j],
                                  present: score >= thresholds[j], logit: logits?[row + j])
            }
        }
    }
}
