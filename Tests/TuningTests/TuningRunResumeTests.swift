import CLIP
import Foundation
import Testing
@testable import Tuning

/// A job resumed from a checkpoint of its final training keeps the setting its selection chose:
/// `auto`'s search stops at a time budget, so searching again after a restart could choose
/// another setting and continue one setting's training under another's hyper-parameters.
@Suite("Resuming a tuning run")
struct TuningRunResumeTests {
    static let model = PromptTrainerTests.model

    static func run(_ h: TuningHyperparameters) throws -> TuningRun {
        let temporary = try DatasetTemporaryFolder()
        var files: [String: Data] = ["classes.txt": DatasetTestSupport.text(["circle", "square"])]
        files["0.jpg"] = try DatasetTestSupport.fixtureImage("jpeg_baseline_420.jpg")
        files["manifest.jsonl"] = DatasetTestSupport.text([#"{"image": "0.jpg", "labels": ["circle"]}"#])
        // The run's own dataset is not read by `train`, which gets the features directly.
        let dataset = try DatasetLoader.load(from: try DatasetTestSupport.makeFolder(files, in: temporary))
        return TuningRun(model: model, training: dataset, validation: .folds, hyperparameters: h,
                         featureCacheRoot: nil, encoderName: "tiny", promptSetID: "ps-resume")
    }

    /// A checkpoint as the job runner stores it: through JSON.
    static func roundTrip(_ state: TrainingState) throws -> TrainingState {
        try JSONDecoder().decode(TrainingState.self, from: try JSONEncoder().encode(state))
    }

    @Test func aResumedRunKeepsTheSelectionOfItsCheckpoint() throws {
        let data = try PromptTrainerTests.synthetic(classes: 3, train: 96, validation: 0, seed: 4)
        var h = PromptTrainerTests.hyperparameters(.auto)
        h.epochs = 4
        h.folds = 2
        let run = try Self.run(h)
        var checkpoints: [TrainingState] = []
        let full = try run.train(data, checkpoint: { checkpoints.append($0) })
        let record = try #require(full.manifest.selection)
        try #require(record.epochs >= 1 && record.candidates.count >= 2, "the search trained and tried several settings")
        #expect(checkpoints.allSatisfy { $0.selection == record }, "every checkpoint holds the selection")

        // Resumed after its first final epoch: the same prompt set, bit for bit, with no new search.
        var candidatesTried = 0
        let resumed = try run.train(data, resume: try Self.roundTrip(checkpoints[0]), events: { event in
            if case .candidate = event { candidatesTried += 1 }
        })
        #expect(candidatesTried == 0)
        #expect(resumed.manifest.selection == record)
        #expect(resumed.classFeatures == full.classFeatures)
        #expect(resumed.manifest.hyperparameters == full.manifest.hyperparameters)

        // A checkpoint whose selection chose another setting continues under that setting.
        func choosing(_ index: Int) -> TrainingState {
            var state = checkpoints[0]
            state.selection = SelectionRecord(data: record.data, folds: record.folds, candidates: record.candidates, chosen: index,
                                              epochs: record.candidates[index].bestEpoch, reason: record.reason,
                                              budgetExhausted: record.budgetExhausted)
            return state
        }
        let shipped = record.candidates[record.chosen].hyperparameters
        let sameShape = record.candidates.indices.filter {
            let other = record.candidates[$0].hyperparameters
            return $0 != record.chosen && record.candidates[$0].bestEpoch >= 1 && other.contextLength == shipped.contextLength
                && other.contextInit == shipped.contextInit && other.resolvedContext == shipped.resolvedContext
        }
        let other = try #require(sameShape.first, "a second setting that trained, with a context of the same shape")
        let continued = try run.train(data, resume: try Self.roundTrip(choosing(other)))
        #expect(continued.manifest.hyperparameters == record.candidates[other].hyperparameters)
        #expect(continued.manifest.selection?.chosen == other)

        // A checkpoint whose context does not fit the setting is refused, not trapped on (the
        // search of a restarted job used to be able to choose words initialisation, M = 4, for a
        // checkpoint of M = 16 random vectors).
        var misfit = checkpoints[0]
        misfit.context.removeLast()
        #expect(throws: TuningError.self) { try run.train(data, resume: try Self.roundTrip(misfit)) }
    }
}
