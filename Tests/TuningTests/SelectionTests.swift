import CLIP
import Compute
import Foundation
import Testing
@testable import Tuning

/// How settings and epochs are chosen: stratified folds, the starting prompt as a candidate,
/// and `auto`'s search under a budget and the user's fixed settings.
@Suite("Selection")
struct SelectionTests {
    static let model = PromptTrainerTests.model

    @Test func foldsAreStratifiedCompleteAndDeterministic() throws {
        let data = try PromptTrainerTests.synthetic(classes: 6, train: 150, validation: 1, seed: 4)
        let c = 6
        let folds = try StratifiedFolds(labels: data.trainLabels, classes: c, folds: 3, seed: 1)
        #expect(folds.fold.count == 150 && folds.fold.allSatisfy { (0..<3).contains($0) })
        #expect(folds == (try StratifiedFolds(labels: data.trainLabels, classes: c, folds: 3, seed: 1)))
        var union: [Int] = []
        for f in 0..<3 {
            let (train, heldOut) = folds.split(f)
            #expect(Set(train).isDisjoint(with: heldOut) && train.count + heldOut.count == 150)
            union += heldOut
            // Sizes within a few images of N/k.
            #expect(abs(heldOut.count - 50) <= 6, "fold \(f) holds \(heldOut.count)")
        }
        #expect(union.sorted() == Array(0..<150))
        // Every class's positives are spread evenly: each fold holds ⌊n/k⌋ or ⌈n/k⌉ of them.
        for k in 0..<c {
            let positives = (0..<150).filter { data.trainLabels[$0 * c + k] == 1 }
            for f in 0..<3 {
                let inFold = positives.filter { folds.fold[$0] == f }.count
                #expect(abs(Double(inFold) - Double(positives.count) / 3) < 1.0 + 1e-9, "class \(k): \(inFold) of \(positives.count) in fold \(f)")
            }
        }
        #expect(throws: TuningError.self) { try StratifiedFolds(labels: data.trainLabels, classes: c, folds: 1, seed: 1) }
    }

    @Test func aClassWithFewerImagesThanFoldsLandsInThatManyFolds() throws {
        // 12 images; class 1 has 2 positives, class 2 one.
        var labels = [Float](repeating: 0, count: 12 * 3)
        for i in 0..<12 { labels[i * 3] = 1 }
        labels[3 * 3 + 1] = 1; labels[7 * 3 + 1] = 1; labels[5 * 3 + 2] = 1
        let folds = try StratifiedFolds(labels: labels, classes: 3, folds: 4, seed: 0)
        #expect(folds.fold[3] != folds.fold[7])
    }

    /// Words initialisation of a generic context is exactly the hand-written prompt (minus its
    /// trailing "." position shift, which the learner reproduces), so epoch 0's score is zero-shot's,
    /// and a learning rate that wrecks the prompt ships the starting prompt: tuning never ships
    /// something worse on the held-out images than what it started from.
    @Test func theStartingPromptIsACandidate() throws {
        let data = try PromptTrainerTests.synthetic(classes: 4, train: 96, validation: 48, seed: 6)
        var h = TuningHyperparameters.defaults(for: .coop)
        h.contextInit = "a photo of a"
        h.epochs = 3
        h.learningRate = 9.9
        h.momentum = 0.99
        h.optimizer = .adamw
        h.schedule = .constant
        let outcome = try EpochSelection(model: Self.model, data: data, hyperparameters: h, selection: .validation, priorFeatures: nil).run()
        let zeroShot = try ZeroShotClassifier(model: Self.model, classNames: data.classNames)
        let logits = zeroShot.logits(imageFeatures: data.validationFeatures)
        let expected = try SelectionScore(scores: logits, labels: data.validationLabels, classes: 4,
                                          groups: ClassGroupBounds.default.groups(of: data.classCounts))
        #expect(abs(outcome.scores[0].value - expected.value) < 1e-4)
        #expect(outcome.scores.count == 4)
        if outcome.scores.dropFirst().allSatisfy({ $0.value <= outcome.scores[0].value }) {
            #expect(outcome.bestEpoch == 0)
            let result = try PromptTrainer(model: Self.model, data: data, hyperparameters: h)
                .run(learningRates: Array(outcome.learningRates.prefix(outcome.bestEpoch)))
            #expect(result.epochsRun == 0)
        } else {
            Issue.record("a learning rate of 9.9 was expected to wreck the prompt: scores \(outcome.scores.map(\.value))")
        }
    }

    @Test func autoLeavesFixedSettingsAloneAndStopsAtItsBudget() throws {
        let data = try PromptTrainerTests.synthetic(classes: 3, train: 48, validation: 1, seed: 8)
        var h = TuningHyperparameters.defaults(for: .auto)
        h.epochs = 2
        h.batchSize = 48
        h.contextLength = 2
        h.fixed = ["learning_rate", "loss", "prior_weight"]
        let prior = try ZeroShotClassifier(model: Self.model, classNames: data.classNames).classFeatures
        let search = AutoSearch(base: h, fixed: Set(h.fixed))
        let (candidates, best, exhausted) = try search.run(model: Self.model, data: data, selection: .folds(2), priorFeatures: prior)
        #expect(!exhausted)
        #expect(candidates.first?.change == "start")
        #expect(candidates.allSatisfy { $0.hyperparameters.learningRate == h.learningRate && $0.hyperparameters.classificationLoss == .bce
            && $0.hyperparameters.priorWeight == 0 })
        #expect(Set(candidates.map(\.change)).count == candidates.count && candidates.count >= 4)
        // The start is kept unless a change beats it by the margin.
        #expect(candidates.contains { $0.hyperparameters == best.hyperparameters })
        if candidates.dropFirst().allSatisfy({ $0.score.value <= candidates[0].score.value + AutoSearch.margin }) {
            #expect(best.hyperparameters == candidates[0].hyperparameters)
        }
        // A budget already spent: the first candidate runs, nothing after it.
        h.budgetMinutes = 1e-6
        let quick = try AutoSearch(base: h, fixed: []).run(model: Self.model, data: data, selection: .folds(2), priorFeatures: prior)
        #expect(quick.candidates.count == 1 && quick.exhausted)
    }

    @Test func hyperparametersOfOlderRecordsStillRead() throws {
        let old = #"{"method":"lmpt","epochs":7,"class_specific":false,"loss":"dbl","learning_rate":0.001}"#
        let h = try JSONDecoder().decode(TuningHyperparameters.self, from: Data(old.utf8))
        #expect(h.method == .lmpt && h.epochs == 7 && h.resolvedContext == .generic && h.cseReduction == .official)
        #expect(h.learningRate == 0.001 && h.batchSize == 64 && h.schedule == .plateau)
        let roundTrip = try JSONDecoder().decode(TuningHyperparameters.self, from: JSONEncoder().encode(h))
        #expect(roundTrip == h || roundTrip.resolvedContext == h.resolvedContext)
        // The method's defaults: auto is generic + BCE + class-sum CSE; LMPT is the paper's.
        let auto = TuningHyperparameters.defaults(for: .auto)
        #expect(auto.resolvedContext == .generic && auto.classificationLoss == .bce && auto.cseReduction == .classSum)
        let lmpt = TuningHyperparameters.defaults(for: .lmpt)
        #expect(lmpt.resolvedContext == .classSpecific && lmpt.classificationLoss == .dbl && lmpt.learningRate == 5e-4)
        var words = lmpt
        words.contextInit = "a photo of a"
        #expect(words.resolvedContext == .generic)   // as the official code: words give one shared context
    }

    /// A hybrid context starts exactly at its shared prompt; a stored prompt set holds shared + residual.
    @Test func hybridStartsAtTheSharedPromptAndStoresAsClassSpecific() throws {
        let words = try PromptContext.fromWords("a photo of a", model: Self.model, classes: 3, kind: .hybrid)
        let generic = try PromptContext.fromWords("a photo of a", model: Self.model, classes: 3, kind: .generic)
        let names = ["cat", "dog", "bird"]
        let a = try PromptLearner(model: Self.model, classNames: names, context: words).classFeatures()
        let b = try PromptLearner(model: Self.model, classNames: names, context: generic).classFeatures()
        #expect(a == b)
        var moved = words
        for i in moved.values.indices { moved.values[i] += Float(i % 5) * 0.01 }
        let stored = moved.storable()
        #expect(stored.kind == .classSpecific && stored.values.count == 3 * words.length * words.width)
        let c = try PromptLearner(model: Self.model, classNames: names, context: moved).classFeatures()
        let d = try PromptLearner(model: Self.model, classNames: names, context: stored).classFeatures()
        #expect(zip(c, d).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func scoreNormalisationsShiftEachImageAndPickTheBestOnHeldOutScores() throws {
        var centred: [Float] = [1, 2, 3, 10, 10, 13]
        ScoreNormalization.centred.apply(to: &centred, classes: 3)
        #expect(centred == [-1, 0, 1, -1, -1, 2])
        var softmax: [Float] = [1, 2, 3, 10, 10, 13]
        ScoreNormalization.logSoftmax.apply(to: &softmax, classes: 3)
        for r in 0..<2 { #expect(abs((0..<3).map { exp(softmax[r * 3 + $0]) }.reduce(0, +) - 1) < 1e-5) }
        // Image 1 is brighter overall; its class-0 logit beats image 0's raw but not once centred.
        let logits: [Float] = [5, 0, 0, 7, 6, 6], labels: [Float] = [1, 0, 0, 0, 1, 1]
        let groups = [ClassGroup](repeating: .tail, count: 3)
        let one = try ServedScoring.best(heldOut: [(0, logits)], labels: labels, classes: 3, groups: groups)
        let raw = try #require(one.tried.first { $0.normalization == .none })
        #expect(one.normalization != .none && one.score.value > raw.score.value)
        // Ties keep none.
        let tie = try ServedScoring.best(heldOut: [(0, [1, 0, 0, 1])], labels: [1, 0, 0, 1], classes: 2, groups: [.tail, .tail])
        #expect(tie.normalization == .none && tie.tried.count == ScoreNormalization.allCases.count)
    }

    @Test func theZeroShotBlendRunsFromTheTunedToTheHandWrittenFeatures() throws {
        let d = 4
        let tuned: [Float] = [3, 0, 0, 0, 0, 2, 0, 0]        // raw: not unit
        let zeroShot: [Float] = [0, 1, 0, 0, 0, 1, 0, 0]      // unit
        #expect(ZeroShotBlend.features(tuned: tuned, zeroShot: zeroShot, weight: 0, dimension: d) == [1, 0, 0, 0, 0, 1, 0, 0])
        #expect(ZeroShotBlend.features(tuned: tuned, zeroShot: zeroShot, weight: 1, dimension: d) == zeroShot)
        let half = ZeroShotBlend.features(tuned: tuned, zeroShot: zeroShot, weight: 0.5, dimension: d)
        let r = 1 / Float(2).squareRoot()
        for (a, b) in zip(half, [r, r, 0, 0, 0, 1, 0, 0]) { #expect(abs(a - b) < 1e-6) }
    }

    /// The served blend and normalisation are chosen together on the held-out scores; a blend is
    /// served only when it ranks better, and ties keep the tuned prompt.
    @Test func aBlendIsServedOnlyWhenItRanksBetterOnHeldOutScores() throws {
        let groups = [ClassGroup](repeating: .tail, count: 2)
        let labels: [Float] = [1, 0, 0, 1, 1, 0, 0, 1]
        let wrong: [Float] = [0, 1, 1, 0, 0, 1, 1, 0], right: [Float] = [1, 0, 0, 1, 1, 0, 0, 1]
        let better = try ServedScoring.best(heldOut: [(0, wrong), (0.5, right), (1, right)], labels: labels, classes: 2, groups: groups)
        #expect(better.zeroShotWeight == 0.5 && better.tried.count == 9)
        let same = try ServedScoring.best(heldOut: [(0, right), (0.5, right)], labels: labels, classes: 2, groups: groups)
        #expect(same.zeroShotWeight == 0 && same.normalization == .none)
    }

    /// The selection scores every blend weight on the same held-out images: weight 0 is the tuned
    /// prompt's logits, weight 1 the hand-written prompt's. A weight that is set is the only one.
    /// What is served is what was scored: a prompt set's class features are the blend it records,
    /// and its out-of-fold metrics are at least the tuned prompt's alone.
    @Test func aPromptSetServesTheBlendItChose() throws {
        let data = try PromptTrainerTests.synthetic(classes: 3, train: 96, validation: 0, seed: 4)
        var h = PromptTrainerTests.hyperparameters(.coop)
        h.epochs = 2
        h.folds = 2
        h.zeroShotWeight = 1
        let handWritten = try ZeroShotClassifier(model: Self.model, classNames: data.classNames).classFeatures
        let zeroShot = try TuningRunResumeTests.run(h).train(data)
        #expect(zeroShot.manifest.scoring.zeroShotWeight == 1)
        #expect(zip(zeroShot.classFeatures, handWritten).allSatisfy { abs($0 - $1) < 1e-5 })
        h.zeroShotWeight = nil
        let chosen = try TuningRunResumeTests.run(h).train(data)
        let record = try #require(chosen.manifest.selection)
        let tuned = record.candidates[record.chosen].score
        let metrics = try #require(chosen.manifest.metrics)
        let groupMean = [metrics.headMap, metrics.mediumMap, metrics.tailMap].compactMap { $0 }
        #expect(groupMean.reduce(0, +) / Double(groupMean.count) >= tuned.value - 1e-6)
        let weight = chosen.manifest.scoring.zeroShotWeight ?? 0
        #expect(ZeroShotBlend.weights.contains(weight))
        h.zeroShotWeight = 0
        let alone = try TuningRunResumeTests.run(h).train(data)
        #expect(zip(ZeroShotBlend.features(tuned: alone.classFeatures, zeroShot: handWritten, weight: weight, dimension: alone.manifest.encoder.projectionDim),
                    chosen.classFeatures).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func theSelectionScoresEachBlendOnTheHeldOutImages() throws {
        let data = try PromptTrainerTests.synthetic(classes: 4, train: 96, validation: 48, seed: 6)
        var h = TuningHyperparameters.defaults(for: .auto)
        h.epochs = 2
        h.contextLength = 2
        let zeroShot = try ZeroShotClassifier(model: Self.model, classNames: data.classNames)
        let outcome = try EpochSelection(model: Self.model, data: data, hyperparameters: h, selection: .validation,
                                         priorFeatures: zeroShot.classFeatures).run()
        #expect(outcome.heldOutBlends.map(\.zeroShotWeight) == ZeroShotBlend.weights)
        let tuned = try SelectionScore(scores: outcome.heldOutBlends[0].logits, labels: data.validationLabels, classes: 4,
                                       groups: ClassGroupBounds.default.groups(of: data.classCounts))
        #expect(tuned == outcome.best)
        let handWritten = zeroShot.logits(imageFeatures: data.validationFeatures)
        let last = try #require(outcome.heldOutBlends.last?.logits)
        #expect(zip(last, handWritten).allSatisfy { abs($0 - $1) < 1e-3 })
        #expect(zip(outcome.heldOutBlends[2].logits, last).contains { abs($0 - $1) > 1e-3 })
        // Set: only that weight. LMPT and CoOp serve the tuned prompt; without the hand-written
        // features a blend cannot be scored and is refused.
        h.zeroShotWeight = 0.25
        let fixed = try EpochSelection(model: Self.model, data: data, hyperparameters: h, selection: .validation,
                                       priorFeatures: zeroShot.classFeatures).run()
        #expect(fixed.heldOutBlends.map(\.zeroShotWeight) == [0.25])
        #expect(TuningHyperparameters.defaults(for: .coop).zeroShotWeights == [0] && TuningHyperparameters.defaults(for: .lmpt).zeroShotWeights == [0])
        #expect(throws: TuningError.self) {
            try EpochSelection(model: Self.model, data: data, hyperparameters: h, selection: .validation, priorFeatures: nil).run()
        }
        h.zeroShotWeight = 1.5
        #expect(throws: TuningError.self) { try h.validate() }
    }
}
