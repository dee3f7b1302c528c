/// What a tuning run trains and validates on, already encoded: L2-normalised image features,
/// caption features (raw; the embedding loss normalises them) and multi-hot labels.
public struct TrainingData: Sendable {
    public let classNames: [String]
    /// Training images per class, n_c (DBL's and the embedding loss's statistics, and the groups).
    public let classCounts: [Int]
    public let trainFeatures: [Float]      // [N, D], unit rows
    public let trainLabels: [Float]        // [N, C]
    public let captionFeatures: [Float]    // [N, D]
    public let validationFeatures: [Float] // [V, D], unit rows
    public let validationLabels: [Float]   // [V, C]
    public let dimension: Int
    /// Caption token ids per training image (SOT … EOT), for the token-level embedding loss.
    public var captionTokens: [[Int32]]?

    public init(classNames: [String], trainFeatures: [Float], trainLabels: [Float], captionFeatures: [Float],
                validationFeatures: [Float], validationLabels: [Float], dimension: Int) throws {
        let c = classNames.count
        guard c > 0, dimension > 0 else { throw TuningError.invalidArgument("no classes or zero feature dimension") }
        guard trainFeatures.count % dimension == 0, trainLabels.count == trainFeatures.count / dimension * c,
              captionFeatures.count == trainFeatures.count else {
            throw TuningError.invalidArgument("training features, captions and labels disagree in size")
        }
        guard validationFeatures.count % dimension == 0, validationLabels.count == validationFeatures.count / dimension * c else {
            throw TuningError.invalidArgument("validation features and labels disagree in size")
        }
        self.classNames = classNames
        self.trainFeatures = trainFeatures
        self.trainLabels = trainLabels
        self.captionFeatures = captionFeatures
        self.validationFeatures = validationFeatures
        self.validationLabels = validationLabels
        self.dimension = dimension
        var counts = [Int](repeating: 0, count: c)
        for (i, y) in trainLabels.enumerated() where y > 0.5 { counts[i % c] += 1 }
        classCounts = counts
    }

    public var trainCount: Int { trainFeatures.count / dimension }
    public var validationCount: Int { validationFeatures.count / dimension }
}

extension TrainingData {
    /// The training images `indices` (in that order) as a dataset of their own, without validation images.
    public func subset(_ indices: [Int]) throws -> TrainingData {
        let d = dimension, c = classNames.count
        var features = [Float](), captions = [Float](), labels = [Float]()
        features.reserveCapacity(indices.count * d); captions.reserveCapacity(indices.count * d)
        labels.reserveCapacity(indices.count * c)
        for i in indices {
            features += trainFeatures[(i * d)..<((i + 1) * d)]
            captions += captionFeatures[(i * d)..<((i + 1) * d)]
            labels += trainLabels[(i * c)..<((i + 1) * c)]
        }
        var out = try TrainingData(classNames: classNames, trainFeatures: features, trainLabels: labels, captionFeatures: captions,
                                   validationFeatures: [], validationLabels: [], dimension: d)
        out.captionTokens = captionTokens.map { tokens in indices.map { tokens[$0] } }
        return out
    }

    /// Rows `indices` of the training features [n, D].
    func trainFeatureRows(_ indices: [Int]) -> [Float] {
        let d = dimension
        var out = [Float]()
        out.reserveCapacity(indices.count * d)
        for i in indices { out += trainFeatures[(i * d)..<((i + 1) * d)] }
        return out
    }
}
