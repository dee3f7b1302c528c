import Testing
@testable import Tuning

/// BCE, focal, ASL and DBL (both forms, VOC and COCO settings) against PyTorch float64 with
/// autograd, on four logit cases (CLIP-like, wide cosines, small, ±100) and labels with an
/// image without positives and a class seen once.
struct LossClassificationParityTests {
    @Test(arguments: LossFixture.logitLossNames, LossFixture.logitCases)
    func valueAndGradientMatchPyTorch(loss name: String, logits logitCase: String) throws {
        let fixture = LossFixture.shared
        let loss = try fixture.logitLoss(name)
        let logits = fixture.floats("logits/\(logitCase)")
        let value = try loss.forward(logits: logits, labels: fixture.labels)
        let gradient = try loss.backward(logits: logits, labels: fixture.labels)
        let valueError = LossFixture.relativeError(value, fixture.value("\(name)/\(logitCase)"))
        let gradientError = LossFixture.relativeError(gradient, fixture.doubles("\(name)/\(logitCase)/grad"))
        #expect(valueError < 1e-5, "\(name)/\(logitCase) value: relative error \(valueError)")
        #expect(gradientError < 1e-5, "\(name)/\(logitCase) gradient: relative error \(gradientError)")
    }

    @Test(arguments: LossFixture.logitLossNames)
    func outputGradientScalesTheGradient(loss name: String) throws {
        let fixture = LossFixture.shared
        let loss = try fixture.logitLoss(name)
        let logits = fixture.floats("logits/clip")
        let scaled = try loss.backward(logits: logits, labels: fixture.labels, outputGradient: 0.25)
        let reference = fixture.doubles("\(name)/clip/grad").map { 0.25 * $0 }
        #expect(LossFixture.relativeError(scaled, reference) < 1e-5)
    }
}
