/// KgCoOp's knowledge-guided term: how far each learned class feature has moved from the feature
/// of its hand-written prompt ("a photo of a {class}."), on unit vectors:
///
///   L = (1/C)·Σ_c ‖t̂_c − ẑ_c‖²,   dL/dt̂_c = (2/C)·(t̂_c − ẑ_c)
///
/// A cheap safeguard for classes with a handful of images: training may move a prompt only as
/// far as the data pays for.
public struct TextPriorLoss: Sendable {
    /// ẑ [C, D], the hand-written prompts' unit features.
    public let priorFeatures: [Float]
    public let classes: Int

    /// `priorFeatures` [C, D] need not be normalised.
    public init(priorFeatures: [Float], classes: Int) throws {
        guard classes > 0, !priorFeatures.isEmpty, priorFeatures.count % classes == 0 else {
            throw TuningError.invalidArgument("\(priorFeatures.count) prior feature values is not \(classes) × D")
        }
        self.classes = classes
        let width = priorFeatures.count / classes
        var unit = priorFeatures
        for c in 0..<classes {
            var norm = 0.0
            for i in 0..<width { norm += Double(unit[c * width + i]) * Double(unit[c * width + i]) }
            let scale = Float(1 / max(norm.squareRoot(), 1e-12))
            for i in 0..<width { unit[c * width + i] *= scale }
        }
        self.priorFeatures = unit
    }

    private func check(_ unitFeatures: [Float]) throws {
        guard unitFeatures.count == priorFeatures.count else {
            throw TuningError.invalidArgument("\(unitFeatures.count) class feature values; \(priorFeatures.count) expected")
        }
    }

    /// L, accumulated in Double.
    func value(unitFeatures: [Float]) throws -> Double {
        try check(unitFeatures)
        var sum = 0.0
        for i in unitFeatures.indices {
            let d = Double(unitFeatures[i]) - Double(priorFeatures[i])
            sum += d * d
        }
        return sum / Double(classes)
    }

    /// L for unit class features t̂ [C, D].
    public func forward(unitFeatures: [Float]) throws -> Float {
        Float(try value(unitFeatures: unitFeatures))
    }

    /// dL/dt̂ [C, D] times `outputGradient`.
    public func backward(unitFeatures: [Float], outputGradient: Float = 1) throws -> [Float] {
        try check(unitFeatures)
        let scale = 2 * outputGradient / Float(classes)
        return unitFeatures.indices.map { scale * (unitFeatures[$0] - priorFeatures[$0]) }
    }
}
