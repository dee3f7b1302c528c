import Compute
import Imaging

/// Zero-shot scoring of images against class names through prompts ("a photo of a {class}."):
/// logit = exp(logit_scale) · cos(image, text); probability = softmax over the classes.
public struct ZeroShotClassifier: Sendable {
    public struct Score: Sendable {
        public let label: String
        public let logit: Float
        public let probability: Float
    }

    public let model: CLIPModel
    public let classNames: [String]
    /// L2-normalised text features of the class prompts [C, D].
    public let classFeatures: [Float]

    /// The hand-written prompt every zero-shot path uses (the CLI's default, the server's zero-shot
    /// tagging, the tuning prior and baseline); `{}` is the class name.
    public static let defaultTemplate = "a photo of a {}."

    /// `template` with each class name put in.
    public static func prompts(for classNames: [String], template: String = defaultTemplate) -> [String] {
        classNames.map { template.replacingOccurrences(of: "{}", with: $0) }
    }

    public init(model: CLIPModel, classNames: [String], template: String = defaultTemplate) throws {
        guard !classNames.isEmpty else { throw CLIPError.invalidInput("no class names") }
        self.model = model
        self.classNames = classNames
        let prompts = Self.prompts(for: classNames, template: template)
        classFeatures = L2Normalize.rows(try model.encode(texts: prompts), width: model.configuration.projectionDim)
    }

    /// Scores of each image against every class, in class order.
    public func classify(images: [RGBImage]) throws -> [[Score]] {
        try scores(imageFeatures: model.encode(images: images))
    }

    /// Scores from projected image features [N, D].
    public func scores(imageFeatures: [Float]) -> [[Score]] {
        let d = model.configuration.projectionDim, c = classNames.count
        let images = L2Normalize.rows(imageFeatures, width: d)
        let n = images.count / d
        var logits = [Float](repeating: 0, count: n * c)
        images.withUnsafeBufferPointer { a in classFeatures.withUnsafeBufferPointer { b in logits.withUnsafeMutableBufferPointer { out in
            gemm(transA: false, transB: true, m: n, n: c, k: d, alpha: model.logitScale,
                 a: a.baseAddress!, lda: d, b: b.baseAddress!, ldb: d, c: out.baseAddress!, ldc: c)
        } } }
        var probabilities = logits
        probabilities.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { Softmax.forwardRow(p.baseAddress! + i * c, length: c, width: c) }
        }
        return (0..<n).map { i in
            (0..<c).map { j in Score(label: classNames[j], logit: logits[i * c + j], probability: probabilities[i * c + j]) }
        }
    }
}
