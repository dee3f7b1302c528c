import Foundation

/// Distribution-balanced loss (Wu et al., ECCV 2020), LMPT's L_cls, on logits z [N, C] with
/// multi-hot labels y [N, C] and the training set's class counts n_c of N_train images:
///
/// 1. Re-balanced weight, every class of image k: ρ_k = Σ_c y_kc/n_c, r_kc = (1/n_c)/ρ_k,
///    w_kc = α + σ(β·(r_kc − μ)); an image without positives has ρ_k = 0, r = ∞, w = α + 1.
/// 2. Negative-tolerant regularisation: z' = z + b_c, b_c = −κ·log(N_train/n_c − 1)/λ_neg;
///    negatives then take z'' = λ_neg·z' and w'' = w/λ_neg (positives z'' = z', w'' = w), so a
///    negative's effective bias is −κ·log(N_train/n_c − 1).
/// 3. Focal term: ℓ = BCE-with-logits(z'', y), p_t = e^−ℓ,
///    L_kc = balance·(1 − p_t)^γ·w''·ℓ, differentiated through p_t.
///
/// `.elementwise` (TagTune's default, the DBL paper and its official code) gives
/// L = lossWeight·(1/NC)·Σ_kc L_kc: ResampleLoss returns the element-wise tensor and the DBL
/// trainer takes its mean. `.officialLMPT` reproduces LMPT's copy (lmpt/dbl.py), whose
/// binary_cross_entropy reduces to the mean before the focal factor:
/// ℓ̄ = mean ℓ, B = mean w''·ℓ, L = lossWeight·balance·(1 − e^−ℓ̄)^γ·B.
public struct DistributionBalancedLoss: MultiLabelLogitLoss {
    /// Where the mean meets the focal factor.
    public enum Form: Sendable {
        /// Focal factor per element, then the mean over N·C (the DBL paper and code).
        case elementwise
        /// BCE means first, focal factor of the mean (the official LMPT copy's quirk).
        case officialLMPT
    }

    /// n_c, training images per class [C].
    public let classCounts: [Int]
    /// N_train, training images.
    public let trainingImageCount: Int
    /// α, floor of the re-balanced weight (0.1).
    public let weightFloor: Float
    /// β, slope of the weight's sigmoid (10).
    public let weightSlope: Float
    /// μ, centre of the weight's sigmoid (0.3 VOC, 0.2 COCO).
    public let weightCentre: Float
    /// κ, scale of the class prior bias (0.05).
    public let biasScale: Float
    /// λ_neg, scale of negatives' logits (5 VOC, 2 COCO).
    public let negativeScale: Float
    /// γ, focusing exponent (2).
    public let focusing: Float
    /// The focal term's constant factor (2).
    public let balance: Float
    /// Factor of the whole loss (1).
    public let lossWeight: Float
    /// Element-wise (default) or the official LMPT quirk.
    public let form: Form

    /// 1/n_c [C].
    private let inverseCounts: [Double]
    /// b_c [C].
    private let bias: [Double]

    /// A DBL for C = classCounts.count classes; every count must lie in 1..<trainingImageCount
    /// (the bias takes log(N_train/n_c − 1)).
    public init(
        classCounts: [Int], trainingImageCount: Int,
        weightFloor: Float = 0.1, weightSlope: Float = 10, weightCentre: Float = 0.3,
        biasScale: Float = 0.05, negativeScale: Float = 5, focusing: Float = 2, balance: Float = 2,
        lossWeight: Float = 1, form: Form = .elementwise
    ) throws {
        try LossInputs.checkClassCounts(classCounts)
        if let bad = classCounts.firstIndex(where: { $0 >= trainingImageCount }) {
            throw TuningError.invalidArgument(
                "class \(bad) has \(classCounts[bad]) of \(trainingImageCount) training images; DBL needs fewer")
        }
        try LossInputs.checkParameter("DBL α", weightFloor)
        try LossInputs.checkParameter("DBL β", weightSlope)
        try LossInputs.checkParameter("DBL μ", weightCentre)
        try LossInputs.checkParameter("DBL κ", biasScale)
        try LossInputs.checkParameter("DBL λ_neg", negativeScale, positive: true)
        try LossInputs.checkParameter("DBL γ", focusing, nonNegative: true)
        try LossInputs.checkParameter("DBL balance", balance)
        try LossInputs.checkParameter("DBL loss weight", lossWeight)
        self.classCounts = classCounts
        self.trainingImageCount = trainingImageCount
        self.weightFloor = weightFloor
        self.weightSlope = weightSlope
        self.weightCentre = weightCentre
        self.biasScale = biasScale
        self.negativeScale = negativeScale
        self.focusing = focusing
        self.balance = balance
        self.lossWeight = lossWeight
        self.form = form
        inverseCounts = classCounts.map { 1 / Double($0) }
        let train = Double(trainingImageCount)
        bias = classCounts.map { -Double(biasScale) * log(train / Double($0) - 1) / Double(negativeScale) }
    }

    /// The official VOC-LT settings: μ 0.3, λ_neg 5 (others at their defaults).
    public static func voc(classCounts: [Int], trainingImageCount: Int, form: Form = .elementwise) throws -> Self {
        try Self(classCounts: classCounts, trainingImageCount: trainingImageCount, weightCentre: 0.3, negativeScale: 5, form: form)
    }

    /// The official COCO-LT settings: μ 0.2, λ_neg 2 (others at their defaults).
    public static func coco(classCounts: [Int], trainingImageCount: Int, form: Form = .elementwise) throws -> Self {
        try Self(classCounts: classCounts, trainingImageCount: trainingImageCount, weightCentre: 0.2, negativeScale: 2, form: form)
    }

    /// Per element: the adjusted logit z'', the weight w'' and dz''/dz.
    private struct Adjusted {
        var logits: [Double]
        var weights: [Double]
        var logitScale: [Double]
    }

    /// Σ ℓ_i and Σ w''_i·ℓ_i over the adjusted logits, ℓ the binary cross-entropy (the official form's two sums).
    private static func crossEntropySums(_ a: Adjusted, labels: [Float]) -> (plain: Double, weighted: Double) {
        var plain = 0.0, weighted = 0.0
        for i in a.logits.indices {
            let ell = LossMath.softplus(labels[i] == 1 ? -a.logits[i] : a.logits[i])
            plain += ell
            weighted += a.weights[i] * ell
        }
        return (plain, weighted)
    }

    private func adjust(logits: [Float], labels: [Float]) throws -> Adjusted {
        let classes = classCounts.count
        let images = try LossInputs.checkLogits(logits, labels: labels, classCount: classes)
        let alpha = Double(weightFloor), beta = Double(weightSlope), mu = Double(weightCentre)
        let lambda = Double(negativeScale)
        var out = Adjusted(
            logits: [Double](repeating: 0, count: logits.count),
            weights: [Double](repeating: 0, count: logits.count),
            logitScale: [Double](repeating: 1, count: logits.count))
        for k in 0..<images {
            let row = k * classes
            var repeatRate = 0.0
            for c in 0..<classes where labels[row + c] == 1 { repeatRate += inverseCounts[c] }
            for c in 0..<classes {
                // ρ = 0: r = ∞ and σ(∞) = 1, as PyTorch's division by zero gives.
                let weight = repeatRate > 0
                    ? alpha + LossMath.sigmoid(beta * (inverseCounts[c] / repeatRate - mu))
                    : alpha + 1
                let shifted = Double(logits[row + c]) + bias[c]
                if labels[row + c] == 1 {
                    out.logits[row + c] = shifted
                    out.weights[row + c] = weight
                } else {
                    out.logits[row + c] = lambda * shifted
                    out.weights[row + c] = weight / lambda
                    out.logitScale[row + c] = lambda
                }
            }
        }
        return out
    }

    /// L, accumulated in Double.
    func value(logits: [Float], labels: [Float]) throws -> Double {
        let a = try adjust(logits: logits, labels: labels)
        let count = Double(logits.count)
        let gamma = Double(focusing)
        switch form {
        case .elementwise:
            var sum = 0.0
            for i in logits.indices {
                let term = LossMath.focalBinaryCrossEntropy(logit: a.logits[i], positive: labels[i] == 1, focusing: gamma)
                sum += a.weights[i] * term.value
            }
            return Double(lossWeight) * Double(balance) * sum / count
        case .officialLMPT:
            let (bce, weightedBCE) = Self.crossEntropySums(a, labels: labels)
            let q = -expm1(-bce / count)              // 1 − p_t of the mean BCE
            let modulation = gamma == 0 ? 1 : pow(q, gamma)
            return Double(lossWeight) * Double(balance) * modulation * weightedBCE / count
        }
    }

    public func forward(logits: [Float], labels: [Float]) throws -> Float {
        Float(try value(logits: logits, labels: labels))
    }

    public func backward(logits: [Float], labels: [Float], outputGradient: Float) throws -> [Float] {
        let a = try adjust(logits: logits, labels: labels)
        let count = Double(logits.count)
        let gamma = Double(focusing)
        let scale = Double(outputGradient) * Double(lossWeight) * Double(balance) / count
        var gradient = [Float](repeating: 0, count: logits.count)
        switch form {
        case .elementwise:
            for i in logits.indices {
                let term = LossMath.focalBinaryCrossEntropy(logit: a.logits[i], positive: labels[i] == 1, focusing: gamma)
                gradient[i] = Float(scale * a.weights[i] * term.derivative * a.logitScale[i])
            }
        case .officialLMPT:
            // L ∝ q^γ·B with q = 1 − e^−ℓ̄: dL/dz''_i ∝ (γ·q^(γ−1)·e^−ℓ̄·B + q^γ·w''_i)·dℓ_i/dz''_i.
            let (bce, weightedBCE) = Self.crossEntropySums(a, labels: labels)
            let meanBCE = bce / count, meanWeightedBCE = weightedBCE / count
            let q = -expm1(-meanBCE)
            let modulation = gamma == 0 ? 1 : pow(q, gamma)
            // d q^γ/dq; at q = 0 its limit for γ ≥ 1 (0 stands in for γ < 1).
            let slope = gamma == 0 ? 0 : q > 0 ? gamma * pow(q, gamma - 1) : (gamma == 1 ? 1 : 0)
            let throughMean = slope * exp(-meanBCE) * meanWeightedBCE
            for i in logits.indices {
                // dℓ/dz'' = σ(z'') − y
                let z = a.logits[i]
                let dEll = labels[i] == 1 ? -LossMath.sigmoid(-z) : LossMath.sigmoid(z)
                gradient[i] = Float(scale * (throughMean + modulation * a.weights[i]) * dEll * a.logitScale[i])
            }
        }
        return gradient
    }
}
