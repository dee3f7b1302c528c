import Testing
@testable import Tuning

/// Every backward against central differences of its own forward, evaluated in Double
/// (independent of PyTorch: checks that forward and backward describe the same function).
struct LossGradientCheckTests {
    static let tolerance = 1e-6

    /// The fixture's losses whose backward is the derivative of their forward (ASL's default
    /// treats its focal weights as constants, which no finite difference sees), and ASL forms
    /// where it is: without focusing, and with the weights differentiated.
    static let differentiableLosses = LossFixture.logitLossNames.filter { $0 != "asl_sum" && $0 != "asl_mean" }
        + ["asl_no_focusing", "asl_negative_weight_grad"]

    static func loss(_ name: String) throws -> any MultiLabelLogitLoss {
        switch name {
        case "asl_no_focusing": return try AsymmetricLoss(negativeFocusing: 0, positiveFocusing: 0)
        case "asl_negative_weight_grad": return try AsymmetricLoss(weightGradient: true)
        default: return try LossFixture.shared.logitLoss(name)
        }
    }

    @Test(arguments: differentiableLosses, LossFixture.logitCases)
    func logitGradientMatchesFiniteDifferences(loss name: String, logits logitCase: String) throws {
        let fixture = LossFixture.shared
        let loss = try Self.loss(name)
        let labels = fixture.labels
        let logits = fixture.floats("logits/\(logitCase)")
        let analytic = try loss.backward(logits: logits, labels: labels)
        let numeric = try LossFixture.centralDifferences(at: logits) { try Self.doubleValue(loss, $0, labels) }
        let error = LossFixture.relativeError(analytic, numeric)
        #expect(error < Self.tolerance, "\(name)/\(logitCase): relative error \(error)")
    }

    /// The Double-accumulated loss behind `forward`.
    static func doubleValue(_ loss: any MultiLabelLogitLoss, _ logits: [Float], _ labels: [Float]) throws -> Double {
        switch loss {
        case let l as BinaryCrossEntropyLoss: return try l.value(logits: logits, labels: labels)
        case let l as FocalLoss: return try l.value(logits: logits, labels: labels)
        case let l as AsymmetricLoss: return try l.value(logits: logits, labels: labels)
        case let l as DistributionBalancedLoss: return try l.value(logits: logits, labels: labels)
        default: preconditionFailure("unknown loss \(type(of: loss))")
        }
    }

    @Test(arguments: [(Float(0.2), Float(2)), (Float(0.5), Float(1))])
    func featureCSEGradientMatchesFiniteDifferences(margin: Float, reweighting: Float) throws {
        let fixture = LossFixture.shared
        let loss = try ClassSpecificEmbeddingLoss(classCounts: fixture.classCounts, margin: margin, reweighting: reweighting)
        let u = fixture.floats("cse/captions"), t = fixture.floats("cse/classes")
        let analytic = try loss.backward(captionFeatures: u, classFeatures: t, labels: fixture.labels)
        let numeric = try LossFixture.centralDifferences(at: t) {
            try loss.value(captionFeatures: u, classFeatures: $0, labels: fixture.labels)
        }
        let error = LossFixture.relativeError(analytic, numeric)
        #expect(error < Self.tolerance, "feature CSE m \(margin) γ \(reweighting): relative error \(error)")
    }

    @Test func priorGradientMatchesFiniteDifferences() throws {
        let fixture = LossFixture.shared
        let prior = try TextPriorLoss(priorFeatures: fixture.floats("prior/features"), classes: 5)
        let unit = fixture.floats("prior/unit")
        let analytic = try prior.backward(unitFeatures: unit, outputGradient: 1)
        let numeric = try LossFixture.centralDifferences(at: unit) { try prior.value(unitFeatures: $0) }
        let error = LossFixture.relativeError(analytic, numeric)
        #expect(error < Self.tolerance, "prior: relative error \(error)")
    }

    @Test func tokenCSEGradientMatchesFiniteDifferences() throws {
        let fixture = LossFixture.shared
        let loss = try ClassSpecificTokenEmbeddingLoss(classCounts: fixture.classCounts)
        let a = fixture.floats("cse_token/captions"), b = fixture.floats("cse_token/prompts")
        let analytic = try loss.backward(captionTokens: a, promptTokens: b, labels: fixture.labels, width: 8)
        let numeric = try LossFixture.centralDifferences(at: b) {
            try loss.value(captionTokens: a, promptTokens: $0, labels: fixture.labels, width: 8)
        }
        let error = LossFixture.relativeError(analytic, numeric)
        #expect(error < Self.tolerance, "token CSE: relative error \(error)")
    }
}
