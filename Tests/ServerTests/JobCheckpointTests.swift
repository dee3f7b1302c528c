import CLIP
import Foundation
import Testing
import Tuning
@testable import Server

/// A job's checkpoint survives the store exactly: a job resumed from it trains as if never stopped.
@Suite("Job checkpoint")
struct JobCheckpointTests {
    /// A trainer on the tiny model with AdamW (two moment buffers) and the state after one epoch.
    static func trainedOneEpoch() throws -> (PromptTrainer, TrainingState) {
        let trainer = try StoreTests.tinyTrainer { $0.batchSize = 2; $0.optimizer = .adamw }
        var state = trainer.initialState()
        state.history.append(try trainer.trainEpoch(0, state: &state, lr: 0.01, began: .now))
        state.bestContext = state.context.map { $0 * 0.5 }
        return (trainer, state)
    }

    /// What servers before format v2 wrote: the whole checkpoint as JSON.
    static func version1JSON(jobID: String, state: TrainingState) throws -> Data {
        struct Version1: Encodable { var format = "tagtune.job_checkpoint.v1"; var jobID: String; var state: TrainingState }
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(Version1(jobID: jobID, state: state))
    }

    @Test func aResumedJobTrainsExactlyAsOneNeverStopped() throws {
        let (trainer, state) = try Self.trainedOneEpoch()
        #expect(state.optimizer.step > 0 && state.optimizer.secondMoment.count == state.context.count)
        let bytes = try JobCheckpoint(jobID: "ftjob-a", state: state).encoded()
        var resumed = try #require(try JobCheckpoint.decode(bytes, jobID: "ftjob-a")).state
        #expect(resumed.context.map(\.bitPattern) == state.context.map(\.bitPattern))
        #expect(resumed.bestContext == state.bestContext)
        #expect(resumed.optimizer.firstMoment == state.optimizer.firstMoment)
        #expect(resumed.optimizer.secondMoment == state.optimizer.secondMoment)
        #expect(resumed.optimizer.step == state.optimizer.step && resumed.epochsDone == 1 && resumed.history == state.history)
        #expect(resumed.schedule.best == state.schedule.best, "the schedule's best of -greatestFiniteMagnitude survives")

        var uninterrupted = state
        _ = try trainer.trainEpoch(1, state: &uninterrupted, lr: 0.01, began: .now)
        _ = try trainer.trainEpoch(1, state: &resumed, lr: 0.01, began: .now)
        #expect(resumed.context.map(\.bitPattern) == uninterrupted.context.map(\.bitPattern))
    }

    @Test func itIsSafeTensorsWithRawFloatsAndSmallerThanJSON() throws {
        let (_, state) = try Self.trainedOneEpoch()
        let bytes = try JobCheckpoint(jobID: "ftjob-a", state: state).encoded()
        let file = try SafeTensorsFile(bytes: bytes, name: "checkpoint")
        #expect(file.metadata["format"] == "tagtune.job_checkpoint.v2" && file.metadata["job_id"] == "ftjob-a")
        #expect(file.names == ["best_context", "context", "optimizer.first_moment", "optimizer.second_moment"])
        #expect(try file.info("context").dtype == .f32 && file.info("context").shape == [state.context.count])
        let json = try Self.version1JSON(jobID: "ftjob-a", state: state)
        #expect(bytes.count < json.count, "v2 \(bytes.count) bytes, v1 \(json.count)")
    }

    @Test func aVersion1CheckpointIsStillRead() throws {
        let (_, state) = try Self.trainedOneEpoch()
        let json = try Self.version1JSON(jobID: "ftjob-a", state: state)
        let loaded = try #require(try JobCheckpoint.decode(json, jobID: "ftjob-a")).state
        #expect(loaded.context == state.context && loaded.optimizer.secondMoment == state.optimizer.secondMoment)
        #expect(try JobCheckpoint.decode(json, jobID: "ftjob-b") == nil)
    }

    @Test func aCheckpointBelongsToItsJobAndDamageIsAnError() throws {
        let (_, state) = try Self.trainedOneEpoch()
        let bytes = try JobCheckpoint(jobID: "ftjob-a", state: state).encoded()
        #expect(try JobCheckpoint.decode(bytes, jobID: "ftjob-b") == nil)
        #expect(throws: (any Error).self) { try JobCheckpoint.decode(bytes.prefix(bytes.count - 4), jobID: "ftjob-a") }

        // Moments that cannot belong to the context they came with.
        var writer = SafeTensorsWriter(metadata: try SafeTensorsFile(bytes: bytes, name: "c").metadata)
        try writer.add("context", floats: state.context, shape: [state.context.count])
        try writer.add("best_context", floats: state.bestContext, shape: [state.bestContext.count])
        try writer.add("optimizer.first_moment", floats: [1, 2], shape: [2])
        try writer.add("optimizer.second_moment", floats: [1, 2], shape: [2])
        let error = #expect(throws: TuningError.self) { try JobCheckpoint.decode(writer.encoded(), jobID: "ftjob-a") }
        #expect(error?.description.contains("differ in size") == true)
    }
}
