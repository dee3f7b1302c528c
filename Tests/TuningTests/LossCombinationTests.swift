import Testing
@testable import Tuning

/// LMPT's total λ·DBL + (1 − λ)·CSE against PyTorch autograd through both parts.
struct LossCombinationTests {
    @Test func totalAndGradientsMatchPyTorch() throws {
        let fixture = LossFixture.shared
        let loss = try LMPTLoss(
            classification: try DistributionBalancedLoss.voc(
                classCounts: fixture.classCounts, trainingImageCount: fixture.trainingImageCount),
            embedding: try ClassSpecificEmbeddingLoss(classCounts: fixture.classCounts))
        #expect(loss.lambda == 0.5)
        let result = try loss.evaluate(
            logits: fixture.floats("logits/clip"), labels: fixture.labels,
            captionFeatures: fixture.floats("cse/captions"), classFeatures: fixture.floats("cse/classes"))
        #expect(LossFixture.relativeError(result.value, fixture.value("lmpt")) < 1e-5)
        #expect(LossFixture.relativeError(result.classification, fixture.value("dbl_voc/clip")) < 1e-5)
        #expect(LossFixture.relativeError(result.embedding, fixture.value("cse")) < 1e-5)
        #expect(LossFixture.relativeError(result.logitGradient, fixture.doubles("lmpt/grad_logits")) < 1e-5)
        #expect(LossFixture.relativeError(result.classFeatureGradient, fixture.doubles("lmpt/grad_classes")) < 1e-5)
    }

    @Test func sharesFollowLambda() throws {
        let loss = try LMPTLoss(
            classification: BinaryCrossEntropyLoss(), embedding: try ClassSpecificEmbeddingLoss(classCounts: [2]), lambda: 0.8)
        #expect(loss.classificationShare == 0.8)
        #expect(abs(loss.embeddingShare - 0.2) < 1e-7)
        #expect(abs(loss.total(classification: 1, embedding: 2) - 1.2) < 1e-6)
    }
}
