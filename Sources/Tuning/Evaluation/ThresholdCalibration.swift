/// Per-class decision thresholds calibrated on a validation split: each class gets the
/// threshold that maximises its own F1 there (see `F1MaximizingThreshold`: searched over the
/// distinct validation scores, placed midway to the next lower score, ties to the higher
/// threshold); classes without a validation positive get the `fallback`.
public struct ThresholdCalibration: Codable, Sendable, Equatable {
    /// Every class's threshold and how it was chosen.
    public let perClass: [CalibratedThreshold]
    /// The fallback threshold the classes without validation positives got, `nil` if none needed it.
    public let fallbackThreshold: Float?

    /// The thresholds alone, one per class.
    public var thresholds: [Float] { perClass.map(\.threshold) }

    /// Calibrates every class of `validation`. With `.globalBestF1`, throws when the split
    /// holds no positive at all (there is then nothing to calibrate on).
    public init(validation: LabeledScores, fallback: ThresholdFallback = .globalBestF1) throws {
        let classes = validation.classCount
        let best: [F1MaximizingThreshold?] = validation.scores.withUnsafeBufferPointer { scores in
            validation.labels.withUnsafeBufferPointer { labels in
                (0..<classes).map { c in
                    F1MaximizingThreshold(ScoreSteps(
                        count: validation.imageCount,
                        score: { scores[$0 * classes + c] },
                        label: { labels[$0 * classes + c] }))
                }
            }
        }
        var fallbackThreshold: Float?
        if best.contains(where: { $0 == nil }) {
            switch fallback {
            case .fixed(let threshold):
                guard !threshold.isNaN else { throw TuningError.invalidArgument("fallback threshold is NaN") }
                fallbackThreshold = threshold
            case .globalBestF1:
                let pooled = ScoreSteps(
                    count: validation.scores.count,
                    score: { validation.scores[$0] }, label: { validation.labels[$0] })
                guard let global = F1MaximizingThreshold(pooled) else {
                    throw TuningError.invalidArgument(
                        "the validation split has no positive label, so no threshold can be calibrated")
                }
                fallbackThreshold = global.threshold
            }
        }
        let positives = validation.positiveCounts()
        perClass = (0..<classes).map { c in
            if let chosen = best[c] {
                return CalibratedThreshold(
                    threshold: chosen.threshold, isFallback: false,
                    validationPositives: positives[c], validationF1: chosen.f1)
            }
            return CalibratedThreshold(
                threshold: fallbackThreshold!, isFallback: true, validationPositives: 0, validationF1: nil)
        }
        self.fallbackThreshold = fallbackThreshold
    }

    enum CodingKeys: String, CodingKey {
        case perClass = "per_class"
        case fallbackThreshold = "fallback_threshold"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(perClass, forKey: .perClass)
        try container.encode(fallbackThreshold, forKey: .fallbackThreshold)  // null, not absent
    }
}
