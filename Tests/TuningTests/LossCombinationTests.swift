import Compute
import Testing
@testable import Tuning

/// LMPT's total λ·DBL + (1 − λ)·CSE against PyTorch autograd through both parts.
struct LossCombinationTests {
    @Test func totalAndGradientsMatchPyTorch() throws {
        let fixture = LossFixture.shared
        let loss = try LMPTLoss(
            classification: try DistributionBalancedLoss.voc(
                classCounts: fixture.classCounts, trainingImageCount: fixture.trainingImageCount),
            embedding: try ClassSpecificEmbeddingLoss(classCounts: fixture.classCounts, reduction: .official))
        #expect(loss.lambda == 0.5)
        let result = try loss.evaluate(
            logits: fixture.floats("logits/clip"), labels: fixture.labels,
            captionFeatures: fixture.floats("cse/captions"), classFeatures: fixture.floats("cse/classes"))
        #expect(LossFixture.relativeError(result.value, fixture.value("lmpt")) < 1e-5)
        #expect(LossFixture.relativeError(result.classification, fixture.value("dbl_voc/clip")) < 1e-5)
        #expect(LossFixture.relativeError(result.embedding, fixture.value("cse")) < 1e-5)
        #expect(LossFixture.relativeError(result.logitGradient, fixture.doubles("lmpt/grad_logits")) < 1e-5)
        #expect(LossFixture.relativeError(try #require(result.classFeatureGradient), fixture.doubles("lmpt/grad_classes")) < 1e-5)
        #expect(result.unitFeatureGradient == nil && result.prior == 0)
    }

    /// The loss the trainer calls each step: λ·BCE + (1 − λ)·β·CSE (class sum) + κ·prior, λ 0.5, β 3, κ 2.
    @Test func fullTrainingLossMatchesPyTorch() throws {
        let fixture = LossFixture.shared
        let prior = try TextPriorLoss(priorFeatures: fixture.floats("prior/features"), classes: 5)
        let loss = try LMPTLoss(classification: BinaryCrossEntropyLoss(),
                                embedding: try ClassSpecificEmbeddingLoss(classCounts: fixture.classCounts), lambda: 0.5,
                                embeddingWeight: 3, prior: prior, priorWeight: 2)
        let result = try loss.evaluate(
            logits: fixture.floats("logits/clip"), labels: fixture.labels, captionFeatures: fixture.floats("cse/captions"),
            classFeatures: fixture.floats("cse/classes"), unitFeatures: fixture.floats("prior/unit"))
        #expect(LossFixture.relativeError(result.value, fixture.value("lmpt_full")) < 1e-5)
        #expect(LossFixture.relativeError(result.logitGradient, fixture.doubles("lmpt_full/grad_logits")) < 1e-5)
        #expect(LossFixture.relativeError(try #require(result.classFeatureGradient), fixture.doubles("lmpt_full/grad_classes")) < 1e-5)
        #expect(LossFixture.relativeError(try #require(result.unitFeatureGradient), fixture.doubles("lmpt_full/grad_unit")) < 1e-5)
    }

    @Test func priorMatchesPyTorch() throws {
        let fixture = LossFixture.shared
        let prior = try TextPriorLoss(priorFeatures: fixture.floats("prior/features"), classes: 5)
        let unit = fixture.floats("prior/unit")
        #expect(LossFixture.relativeError(try prior.forward(unitFeatures: unit), fixture.value("prior")) < 1e-5)
        #expect(LossFixture.relativeError(try prior.backward(unitFeatures: unit), fixture.doubles("prior/grad")) < 1e-5)
        // At the prior itself the term and its gradient vanish.
        let target = L2Normalize.rows(fixture.floats("prior/features"), width: 8)
        #expect(try prior.forward(unitFeatures: target) < 1e-12)
    }

    @Test func sharesFollowLambda() throws {
        let loss = try LMPTLoss(
            classification: BinaryCrossEntropyLoss(), embedding: try ClassSpecificEmbeddingLoss(classCounts: [2]), lambda: 0.8)
        #expect(loss.classificationShare == 0.8)
        #expect(abs(loss.embeddingShare - 0.2) < 1e-7)
        #expect(abs(loss.total(classification: 1, embedding: 2) - 1.2) < 1e-6)
    }
}
