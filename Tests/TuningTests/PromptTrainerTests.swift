import CLIP
import Compute
import Foundation
import Testing
@testable import Tuning

/// The trainer on a synthetic task the tiny model cannot solve zero-shot: each class has a random
/// prototype direction in feature space; an image's feature is the normalised sum of its classes'
/// prototypes plus noise, and its caption feature is the same sum. Tuning must move every class's
/// prompt feature towards its prototype.
@Suite("Prompt trainer")
struct PromptTrainerTests {
    static let model = try! CLIPModel(directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/clip/hf-tiny-f32"))

    static func synthetic(classes: Int, train: Int, validation: Int, seed: UInt64) throws -> TrainingData {
        let d = model.configuration.projectionDim
        var rng = SplitMix64(seed: seed)
        let prototypes = (0..<(classes * d)).map { _ in rng.nextGaussian() }
        // Long-tailed label frequencies: class c appears with probability 0.6 / (c + 1).
        func sample(_ n: Int) -> ([Float], [Float], [Float]) {
            var features: [Float] = [], captions: [Float] = [], labels: [Float] = []
            for _ in 0..<n {
                var y = (0..<classes).map { c in rng.nextFloat() < 0.6 / Float(c + 1) ? Float(1) : 0 }
                if !y.contains(1) { y[Int(rng.next() % UInt64(classes))] = 1 }
                var v = [Float](repeating: 0, count: d)
                for c in 0..<classes where y[c] == 1 { for j in 0..<d { v[j] += prototypes[c * d + j] } }
                captions += v
                for j in 0..<d { v[j] += 0.5 * rng.nextGaussian() }
                features += v
                labels += y
            }
            return (L2Normalize.rows(features, width: d), captions, labels)
        }
        let (trainF, trainC, trainY) = sample(train)
        let (valF, _, valY) = sample(validation)
        return try TrainingData(classNames: (0..<classes).map { "class \($0)" }, trainFeatures: trainF, trainLabels: trainY,
                                captionFeatures: trainC, validationFeatures: valF, validationLabels: valY, dimension: d)
    }

    static func hyperparameters(_ method: TuningMethod) -> TuningHyperparameters {
        var h = TuningHyperparameters.defaults(for: method)
        h.epochs = 6
        h.batchSize = 32
        h.contextLength = 4
        h.optimizer = .adamw
        h.weightDecay = 0
        h.learningRate = 0.05
        h.schedule = .constant
        h.classificationLoss = .bce
        h.seed = 7
        return h
    }

    @Test(arguments: [TuningMethod.lmpt, .coop])
    func tuningLowersTheLossAndLMPTRaisesTheValidationScore(method: TuningMethod) throws {
        let data = try Self.synthetic(classes: 5, train: 192, validation: 96, seed: 1)
        var epochs: [Int] = []
        let outcome = try EpochSelection(model: Self.model, data: data, hyperparameters: Self.hyperparameters(method),
                                         selection: .validation, priorFeatures: nil)
            .run(epochDone: { epoch, _, _ in epochs.append(epoch) })
        let before = outcome.scores[0].map, after = outcome.best.map
        var losses: [Float] = []
        _ = try PromptTrainer(model: Self.model, data: data, hyperparameters: Self.hyperparameters(method))
            .run(report: { if $0.kind == .epoch { losses.append($0.loss) } })
        print("\(method): validation mAP \(before) → \(after); losses \(losses)")
        #expect(epochs == Array(1...6))
        #expect(outcome.scores.count == 7)
        #expect(losses.last! < losses.first!)
        switch method {
        case .lmpt:
            // Class-specific contexts can point each class at its own prototype.
            #expect(after > before + 10, "validation mAP \(before) → \(after)")
            #expect(outcome.bestEpoch > 0)
        case .coop, .auto:
            // One shared context cannot separate classes whose names differ by a digit.
            break
        }
    }

    @Test func tokenLevelEmbeddingLossTrainsAndMovesTheContexts() throws {
        var data = try Self.synthetic(classes: 3, train: 48, validation: 16, seed: 5)
        data.captionTokens = (0..<48).map { i in Self.model.tokenizer.tokenize("a photo of object \(i % 3) on a table") }
        var h = Self.hyperparameters(.lmpt)
        h.epochs = 2
        h.embeddingLoss = .token
        let tokenRun = try PromptTrainer(model: Self.model, data: data, hyperparameters: h).run()
        #expect(tokenRun.history.allSatisfy { $0.embeddingLoss > 0 && $0.loss.isFinite && ($0.gradientRatio ?? 0) > 0 })
        h.embeddingLoss = .feature
        let featureRun = try PromptTrainer(model: Self.model, data: data, hyperparameters: h).run()
        #expect(tokenRun.context.values != featureRun.context.values)
        // Without caption tokens the token form is refused up front.
        data.captionTokens = nil
        h.embeddingLoss = .token
        #expect(throws: TuningError.self) { try PromptTrainer(model: Self.model, data: data, hyperparameters: h) }
    }

    @Test func tokenEmbeddingGradientReachesOnlyTheContextRows() throws {
        let model = Self.model
        let context = PromptContext.random(classes: 2, length: 3, width: model.configuration.text.width, classSpecific: true, seed: 9)
        let learner = try PromptLearner(model: model, classNames: ["cat", "dog"], context: context)
        let length = 12, w = model.configuration.text.width
        let tokens = learner.tokenEmbeddings(length: length)
        // Context rows hold the context vectors; the SOT row holds SOT's embedding.
        let slot = learner.contextPositions[1][2]
        #expect(Array(tokens[((1 * length + slot) * w)..<((1 * length + slot + 1) * w)]) == Array(context.values[((1 * 3 + 2) * w)..<((1 * 3 + 3) * w)]))
        let grad = (0..<tokens.count).map { Float($0 % 7) }
        let dctx = learner.contextGradient(fromTokenGradient: grad, length: length)
        #expect(Array(dctx[0..<w]) == Array(grad[((0 * length + learner.contextPositions[0][0]) * w)..<((0 * length + learner.contextPositions[0][0] + 1) * w)]))
    }

    @Test func sameSeedSameResult() throws {
        let data = try Self.synthetic(classes: 4, train: 64, validation: 32, seed: 2)
        var h = Self.hyperparameters(.lmpt)
        h.epochs = 2
        let a = try PromptTrainer(model: Self.model, data: data, hyperparameters: h).run()
        let b = try PromptTrainer(model: Self.model, data: data, hyperparameters: h).run()
        #expect(a.context.values == b.context.values)
        #expect(a.history == b.history.map { event in a.history.first { $0.epoch == event.epoch && $0.kind == event.kind }.map {
            TrainingEvent(kind: event.kind, epoch: event.epoch, step: event.step, stepsPerEpoch: event.stepsPerEpoch, loss: event.loss,
                          classificationLoss: event.classificationLoss, embeddingLoss: event.embeddingLoss,
                          learningRate: event.learningRate, validationMAP: event.validationMAP, elapsedSeconds: $0.elapsedSeconds,
                          gradientRatio: event.gradientRatio, priorLoss: event.priorLoss)
        }! })
        h.seed = 8
        let c = try PromptTrainer(model: Self.model, data: data, hyperparameters: h).run()
        #expect(c.context.values != a.context.values)
    }

    @Test func resumingFromACheckpointEqualsAnUninterruptedRun() throws {
        let data = try Self.synthetic(classes: 4, train: 64, validation: 32, seed: 3)
        var h = Self.hyperparameters(.lmpt)
        h.epochs = 3
        let whole = try PromptTrainer(model: Self.model, data: data, hyperparameters: h).run()
        var saved: TrainingState?
        let first = try PromptTrainer(model: Self.model, data: data, hyperparameters: h)
        _ = try? first.run(checkpoint: { state in
            if state.epochsDone == 1 { saved = state }
        }, isCancelled: { saved != nil })
        let state = try #require(saved)
        // Round trip through JSON, as a job's checkpoint file does.
        let restored = try JSONDecoder().decode(TrainingState.self, from: JSONEncoder().encode(state))
        let resumed = try PromptTrainer(model: Self.model, data: data, hyperparameters: h).run(from: restored)
        #expect(resumed.context.values == whole.context.values)
        #expect(resumed.epochsRun == 3)
    }

    @Test func cancellationStopsAtTheNextStep() throws {
        let data = try Self.synthetic(classes: 3, train: 64, validation: 16, seed: 4)
        var steps = 0
        #expect(throws: TuningError.cancelled) {
            try PromptTrainer(model: Self.model, data: data, hyperparameters: Self.hyperparameters(.lmpt))
                .run(report: { if $0.kind == .step { steps += 1 } }, isCancelled: { steps >= 3 })
        }
        #expect(steps == 3)
    }

    /// The defect the 2026-12 audit found: with Σω = 1 and a mean over images × classes, the
    /// embedding loss's gradient was 1e-4 to 1e-6 of the classification loss's. At initialisation,
    /// with λ 0.5 and β 1, neither term may be under 1% of the other.
    @Test(arguments: [ContextKind.generic, .hybrid, .classSpecific])
    func bothLossTermsPullAtInitialisation(context: ContextKind) throws {
        let data = try Self.synthetic(classes: 6, train: 128, validation: 16, seed: 11)
        var h = TuningHyperparameters.defaults(for: .auto)
        h.context = context
        h.batchSize = 128
        let trainer = try PromptTrainer(model: Self.model, data: data, hyperparameters: h)
        var state = trainer.initialState()
        let m = try trainer.step(batch: Array(0..<128), state: &state, lr: 0)
        let ratio = try #require(m.gradientRatio)
        print("\(context): ‖∇L_cse‖ \(m.embeddingGradientNorm), ‖∇L_cls‖ \(m.classificationGradientNorm), ratio \(ratio)")
        #expect(ratio > 0.01 && ratio < 100, "‖∇L_cse‖/‖∇L_cls‖ = \(ratio)")
        // The official reduction is C² = 36 times weaker: the ratio falls by that factor.
        h.cseReduction = .official
        let official = try PromptTrainer(model: Self.model, data: data, hyperparameters: h)
        var officialState = official.initialState()
        let weak = try #require(try official.step(batch: Array(0..<128), state: &officialState, lr: 0).gradientRatio)
        #expect(abs(weak * 36 / ratio - 1) < 1e-3)
    }

    /// The step's gradient, read back from an SGD update (momentum 0, no decay), against central
    /// finite differences of the loss the step reports, for every context kind and with every term on.
    @Test(arguments: [ContextKind.generic, .hybrid, .classSpecific])
    func stepGradientMatchesFiniteDifferences(context: ContextKind) throws {
        let data = try Self.synthetic(classes: 3, train: 12, validation: 4, seed: 21)
        var h = TuningHyperparameters.defaults(for: .auto)
        h.context = context
        h.contextLength = 2
        h.momentum = 0
        h.weightDecay = 0
        h.cseWeight = 5
        h.priorWeight = 2
        h.seed = 3
        let prior = try ZeroShotClassifier(model: Self.model, classNames: data.classNames).classFeatures
        let trainer = try PromptTrainer(model: Self.model, data: data, hyperparameters: h, priorFeatures: prior)
        var start = trainer.initialState()
        // A hybrid context starts with zero residuals; move them so their gradient is not special.
        var rng = SplitMix64(seed: 5)
        start.context = start.context.map { $0 + 0.01 * rng.nextGaussian() }
        let batch = Array(0..<12), lr: Float = 1
        var stepped = start
        _ = try trainer.step(batch: batch, state: &stepped, lr: lr)
        let gradient = zip(start.context, stepped.context).map { ($0 - $1) / lr }
        func loss(_ context: [Float]) throws -> Double {
            var s = start
            s.context = context
            return Double(try trainer.step(batch: batch, state: &s, lr: 0).loss)
        }
        let eps: Float = 1e-2
        var worst = 0.0
        for i in stride(from: 0, to: start.context.count, by: max(1, start.context.count / 24)) {
            var plus = start.context, minus = start.context
            plus[i] += eps; minus[i] -= eps
            let numeric = (try loss(plus) - loss(minus)) / Double(2 * eps)
            let error = abs(numeric - Double(gradient[i])) / max(1e-3, abs(numeric))
            worst = max(worst, error)
        }
        #expect(worst < 0.03, "worst relative error \(worst)")
    }

    @Test func invalidHyperparametersNameTheField() {
        var h = TuningHyperparameters()
        h.learningRate = -1
        #expect(throws: TuningError.invalidArgument("learning_rate: must be in (0, 10), got -1.0")) { try h.validate() }
    }
}
