import Foundation
import Testing
@testable import Tuning

/// Behaviour at the edges: saturated logits, an image without positives, a class seen once,
/// and the inputs each loss refuses.
struct LossEdgeCaseTests {
    static let counts = [300, 60, 12, 3, 1]

    static func allLogitLosses() throws -> [any MultiLabelLogitLoss] {
        [
            BinaryCrossEntropyLoss(), try FocalLoss(), try FocalLoss(alpha: 0.25),
            try AsymmetricLoss(), try AsymmetricLoss(positiveFocusing: 1, clip: 0, weightGradient: true),
            try DistributionBalancedLoss.voc(classCounts: counts, trainingImageCount: 400),
            try DistributionBalancedLoss.coco(classCounts: counts, trainingImageCount: 400, form: .officialLMPT),
        ]
    }

    @Test(arguments: [Float(100), 1000, 1e30])
    func saturatedLogitsStayFinite(magnitude: Float) throws {
        // Right and wrong by a wide margin, on positives and negatives.
        let logits: [Float] = [magnitude, -magnitude, magnitude, -magnitude, 0,
                               -magnitude, magnitude, -magnitude, magnitude, magnitude]
        let labels: [Float] = [1, 1, 0, 0, 1, 0, 0, 1, 1, 0]
        for loss in try Self.allLogitLosses() {
            let value = try loss.forward(logits: logits, labels: labels)
            let gradient = try loss.backward(logits: logits, labels: labels)
            #expect(value.isFinite, "\(type(of: loss)) value \(value) at ±\(magnitude)")
            #expect(gradient.allSatisfy { $0.isFinite }, "\(type(of: loss)) gradient at ±\(magnitude)")
        }
    }

    @Test func confidentLogitsCostAboutNothingAndWrongOnesCostTheirMargin() throws {
        // BCE of z = ±100: a right answer costs log(1 + e^−100) ≈ e^−100, exactly (not the 0 of
        // softplus(z) − z), a wrong one 100 (no log(0)).
        let bce = BinaryCrossEntropyLoss()
        #expect(abs(try bce.value(logits: [100, -100], labels: [1, 0]) / exp(-100) - 1) < 1e-12)
        #expect(abs(try bce.forward(logits: [-100, 100], labels: [1, 0]) - 100) < 1e-4)
        let gradient = try bce.backward(logits: [-100, 100], labels: [1, 0])
        #expect(gradient == [-0.5, 0.5])
    }

    @Test func imageWithoutPositivesWeighsEveryClassAlphaPlusOne() throws {
        // ρ = 0, so w = α + 1 everywhere, every class negative: DBL of the row is
        // balance·(α + 1)/λ_neg · focal(λ_neg·(z + b)) with b_c = −κ·log(N/n_c − 1)/λ_neg.
        let dbl = try DistributionBalancedLoss.voc(classCounts: Self.counts, trainingImageCount: 400)
        let logits: [Float] = [3, -2, 25, -40, 0.5]
        let labels: [Float] = [0, 0, 0, 0, 0]
        var adjusted = [Float](repeating: 0, count: logits.count)
        for c in logits.indices {
            let bias = -0.05 * log(400 / Double(Self.counts[c]) - 1) / 5
            adjusted[c] = Float(5 * (Double(logits[c]) + bias))
        }
        let focal = try FocalLoss()
        let expected = 2 * 1.1 / 5 * (try focal.value(logits: adjusted, labels: labels))
        let value = try dbl.value(logits: logits, labels: labels)
        #expect(abs(value - expected) <= 1e-6 * expected)
        // dz''/dz = λ_neg cancels the 1/λ_neg of the weight.
        let expectedGradient = try focal.backward(logits: adjusted, labels: labels).map { 2 * 1.1 * Double($0) }
        let gradient = try dbl.backward(logits: logits, labels: labels)
        #expect(LossFixture.relativeError(gradient, expectedGradient) < 1e-5)
    }

    @Test func classSeenOnceIsAccepted() throws {
        let dbl = try DistributionBalancedLoss.voc(classCounts: [1, 399], trainingImageCount: 400)
        let value = try dbl.forward(logits: [20, 20], labels: [1, 0])
        #expect(value.isFinite && value > 0)
        let cse = try ClassSpecificEmbeddingLoss(classCounts: [1, 399])
        #expect(try cse.forward(captionFeatures: [1, 0], classFeatures: [1, 0, 0, 1], labels: [1, 0]) == 0)
    }

    @Test func aslIgnoresNegativesBelowTheClip() throws {
        // σ(−4) ≈ 0.018 < 0.05: shifted to probability 0, no loss, no gradient.
        let asl = try AsymmetricLoss()
        #expect(try asl.forward(logits: [-4, -6], labels: [0, 0]) == 0)
        #expect(try asl.backward(logits: [-4, -6], labels: [0, 0]) == [0, 0])
        #expect(try asl.forward(logits: [0], labels: [0]) > 0)
    }

    @Test func embeddingLossVanishesWhenPositivesCoincideAndNegativesAreFar() throws {
        // Caption 0 is 3·t_0 (cosine 1 with its positive), orthogonal to the negative t_1:
        // d = 0 for the positive, d = 1 beyond every margin for the negative.
        let cse = try ClassSpecificEmbeddingLoss(classCounts: [5, 2])
        let u: [Float] = [3, 0, 0]
        let t: [Float] = [1, 0, 0, 0, 2, 0]
        #expect(try cse.forward(captionFeatures: u, classFeatures: t, labels: [1, 0]) == 0)
        #expect(try cse.backward(captionFeatures: u, classFeatures: t, labels: [1, 0]).allSatisfy { abs($0) < 1e-7 })
        // Turned around, both terms count: d = 1 for the (now) positive t_1.
        #expect(try cse.forward(captionFeatures: u, classFeatures: t, labels: [0, 1]) > 0)
    }

    @Test func refusesMismatchedShapesAndBadValues() throws {
        func expectInvalid(_ what: String, _ body: () throws -> Void) {
            let error = #expect(throws: TuningError.self, "\(what)") { try body() }
            if let error, case .invalidArgument = error {} else { Issue.record("\(what): not invalidArgument: \(String(describing: error))") }
        }
        let dbl = try DistributionBalancedLoss.voc(classCounts: Self.counts, trainingImageCount: 400)
        expectInvalid("logits vs labels") { _ = try BinaryCrossEntropyLoss().forward(logits: [1, 2, 3], labels: [1, 0]) }
        expectInvalid("no logits") { _ = try FocalLoss().forward(logits: [], labels: []) }
        expectInvalid("soft label") { _ = try AsymmetricLoss().backward(logits: [1, 2], labels: [1, 0.5]) }
        expectInvalid("DBL columns") { _ = try dbl.forward(logits: [Float](repeating: 0, count: 8), labels: [Float](repeating: 0, count: 8)) }
        expectInvalid("DBL count 0") { _ = try DistributionBalancedLoss(classCounts: [0, 3], trainingImageCount: 10) }
        expectInvalid("DBL count = N") { _ = try DistributionBalancedLoss(classCounts: [10, 3], trainingImageCount: 10) }
        expectInvalid("DBL λ_neg 0") { _ = try DistributionBalancedLoss(classCounts: [1], trainingImageCount: 10, negativeScale: 0) }
        expectInvalid("focal α") { _ = try FocalLoss(alpha: 1.5) }
        expectInvalid("ASL ε") { _ = try AsymmetricLoss(epsilon: 0) }
        let cse = try ClassSpecificEmbeddingLoss(classCounts: [3, 2])
        expectInvalid("CSE caption width") {
            _ = try cse.forward(captionFeatures: [1, 2, 3], classFeatures: [1, 0, 0, 1], labels: [1, 0])
        }
        expectInvalid("CSE labels") { _ = try cse.backward(captionFeatures: [1, 2], classFeatures: [1, 0, 0, 1], labels: [1, 0, 1]) }
        let tokens = try ClassSpecificTokenEmbeddingLoss(classCounts: [3, 2])
        expectInvalid("token length ≤ offset") {
            _ = try tokens.forward(captionTokens: [1, 2, 3, 4], promptTokens: [1, 2, 3, 4, 5, 6, 7, 8], labels: [1, 0], width: 2)
        }
        expectInvalid("token caption size") {
            _ = try tokens.forward(captionTokens: [1, 2, 3], promptTokens: [Float](repeating: 1, count: 12), labels: [1, 0], width: 2)
        }
        expectInvalid("token offset") { _ = try ClassSpecificTokenEmbeddingLoss(classCounts: [1], offset: -1) }
        expectInvalid("LMPT λ") { _ = try LMPTLoss(classification: BinaryCrossEntropyLoss(), embedding: cse, lambda: 1.5) }
    }
}
