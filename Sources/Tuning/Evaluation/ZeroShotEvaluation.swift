import CLIP

extension EvaluationReport {
    /// The frozen model with the hand-written prompt "a photo of a {class}." on unit image features
    /// ([N, D]). Zero-shot has no validation split of its own, so its thresholds are calibrated on
    /// the same images (oracle thresholds: F1 figures are optimistic; mAP is unaffected).
    /// `eval --zero-shot` reports it, and a tuning run stores it beside its own validation report.
    public static func zeroShot(
        model: CLIPModel, classNames: [String], imageFeatures: [Float], labels: [Bool], trainingCounts: [Int]
    ) throws -> EvaluationReport {
        let c = classNames.count
        let logits = try ZeroShotClassifier(model: model, classNames: classNames)
            .logits(imageFeatures: imageFeatures)
        let scored = try LabeledScores(imageCount: labels.count / c, classCount: c, scores: logits, labels: labels)
        return try EvaluationReport(test: scored, classNames: classNames, trainingCounts: trainingCounts,
                                    thresholds: try ThresholdCalibration(validation: scored).thresholds, softmaxLogits: logits)
    }
}
