import Compute

/// Zero-shot scoring of images against class names through a hand-written prompt
/// ("a photo of a {class}."): logit = exp(logit_scale) · cos(image, text); score = softmax of the
/// logits over the given classes, so a class is present (score ≥ threshold, 0.5 unless given) only
/// when it clearly wins.
public struct ZeroShotClassifier: Sendable {
    public let classNames: [String]
    /// L2-normalised text features of the class prompts [C, D].
    public let classFeatures: [Float]
    public let logitScale: Float
    public var dimension: Int { classFeatures.count / classNames.count }

    /// The hand-written prompt every zero-shot path uses (the CLI's default, the server's zero-shot
    /// tagging, the tuning prior and baseline); `{}` is the class name.
    public static let defaultTemplate = "a photo of a {}."
    /// The threshold on the softmax score when a request gives none.
    public static let defaultThreshold: Float = 0.5

    /// `template` with each class name put in.
    public static func prompts(for classNames: [String], template: String = defaultTemplate) -> [String] {
        classNames.map { template.replacingOccurrences(of: "{}", with: $0) }
    }

    /// Encodes the class prompts with `model`'s text tower.
    public init(model: CLIPModel, classNames: [String], template: String = defaultTemplate) throws {
        guard !classNames.isEmpty else { throw CLIPError.invalidInput("no class names") }
        try self.init(classNames: classNames, classFeatures: try model.encode(texts: Self.prompts(for: classNames, template: template)),
                      logitScale: model.logitScale)
    }

    /// From class text features computed elsewhere (the server's cache): [C, D], normalised here.
    public init(classNames: [String], classFeatures: [Float], logitScale: Float) throws {
        guard !classNames.isEmpty, !classFeatures.isEmpty, classFeatures.count % classNames.count == 0 else {
            throw CLIPError.invalidInput("\(classFeatures.count) feature values for \(classNames.count) classes")
        }
        self.classNames = classNames
        self.logitScale = logitScale
        self.classFeatures = L2Normalize.rows(classFeatures, width: classFeatures.count / classNames.count)
    }

    /// Logits s·cos [N, C] of projected image features [N, D] (normalised here).
    public func logits(imageFeatures: [Float]) -> [Float] {
        Labeling.cosineLogits(images: L2Normalize.rows(imageFeatures, width: dimension), classes: classFeatures,
                              dimension: dimension, scale: logitScale)
    }

    /// Labels of projected image features [N, D], each image's ranked by score, with their logits.
    public func labels(imageFeatures: [Float], threshold: Float? = nil, topK: Int? = nil) -> [[ImageLabel]] {
        let logits = logits(imageFeatures: imageFeatures)
        var scores = logits
        let c = classNames.count
        scores.withUnsafeMutableBufferPointer { p in
            for i in 0..<(p.count / c) { Softmax.forwardRow(p.baseAddress! + i * c, length: c, width: c) }
        }
        return Labeling.labels(classNames: classNames, scores: scores,
                               thresholds: Array(repeating: threshold ?? Self.defaultThreshold, count: c),
                               logits: logits, topK: topK)
    }
}
