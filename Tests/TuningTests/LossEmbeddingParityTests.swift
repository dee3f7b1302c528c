import Testing
@testable import Tuning

/// The class-specific embedding loss, feature form (two margin/γ settings) and the official
/// token form, against PyTorch float64 with autograd.
struct LossEmbeddingParityTests {
    @Test(arguments: [("cse", Float(0.2), Float(2)), ("cse_m05_g1", Float(0.5), Float(1))])
    func featureFormMatchesPyTorch(name: String, margin: Float, reweighting: Float) throws {
        let fixture = LossFixture.shared
        let loss = try ClassSpecificEmbeddingLoss(classCounts: fixture.classCounts, margin: margin, reweighting: reweighting,
                                                  reduction: .official)
        let u = fixture.floats("cse/captions"), t = fixture.floats("cse/classes")
        let value = try loss.forward(captionFeatures: u, classFeatures: t, labels: fixture.labels)
        let gradient = try loss.backward(captionFeatures: u, classFeatures: t, labels: fixture.labels)
        let valueError = LossFixture.relativeError(value, fixture.value(name))
        let gradientError = LossFixture.relativeError(gradient, fixture.doubles("\(name)/grad"))
        #expect(valueError < 1e-5, "\(name) value: relative error \(valueError)")
        #expect(gradientError < 1e-5, "\(name) gradient: relative error \(gradientError)")
    }

    /// The class-sum reduction (ω mean 1, summed over classes, mean over images), the default.
    @Test func classSumFormMatchesPyTorch() throws {
        let fixture = LossFixture.shared
        let loss = try ClassSpecificEmbeddingLoss(classCounts: fixture.classCounts)
        #expect(loss.reduction == .classSum)
        let u = fixture.floats("cse/captions"), t = fixture.floats("cse/classes")
        let value = try loss.forward(captionFeatures: u, classFeatures: t, labels: fixture.labels)
        let gradient = try loss.backward(captionFeatures: u, classFeatures: t, labels: fixture.labels)
        #expect(LossFixture.relativeError(value, fixture.value("cse_class_sum")) < 1e-5)
        #expect(LossFixture.relativeError(gradient, fixture.doubles("cse_class_sum/grad")) < 1e-5)
        // C² (here 25) times the official reduction, value and gradient.
        let official = try ClassSpecificEmbeddingLoss(classCounts: fixture.classCounts, reduction: .official)
        let small = try official.forward(captionFeatures: u, classFeatures: t, labels: fixture.labels)
        #expect(abs(value / small / 25 - 1) < 1e-5)
    }

    @Test func defaultsAreLMPTs() throws {
        let loss = try ClassSpecificEmbeddingLoss(classCounts: [4])
        #expect(loss.margin == 0.2 && loss.reweighting == 2)
        let tokens = try ClassSpecificTokenEmbeddingLoss(classCounts: [4])
        #expect(tokens.margin == 0.2 && tokens.reweighting == 2 && tokens.offset == 2)
    }

    @Test func tokenFormMatchesPyTorch() throws {
        let fixture = LossFixture.shared
        let loss = try ClassSpecificTokenEmbeddingLoss(classCounts: fixture.classCounts)
        let a = fixture.floats("cse_token/captions"), b = fixture.floats("cse_token/prompts")
        let value = try loss.forward(captionTokens: a, promptTokens: b, labels: fixture.labels, width: 8)
        let gradient = try loss.backward(captionTokens: a, promptTokens: b, labels: fixture.labels, width: 8)
        let valueError = LossFixture.relativeError(value, fixture.value("cse_token"))
        let gradientError = LossFixture.relativeError(gradient, fixture.doubles("cse_token/grad"))
        #expect(valueError < 1e-5, "token CSE value: relative error \(valueError)")
        #expect(gradientError < 1e-5, "token CSE gradient: relative error \(gradientError)")
        // Positions before the offset never meet a caption token.
        for c in 0..<5 {
            for i in 0..<(2 * 8) { #expect(gradient[c * 7 * 8 + i] == 0) }
        }
    }
}
