import CLIP
import Foundation
import Tuning

/// A running job's state after its last finished epoch, kept in the store (`job_checkpoint`) so
/// that whichever server claims the job next resumes at the next epoch.
struct JobCheckpoint: Codable, Sendable {
    /// Where a server before checkpoints moved into the store kept them: `<data_dir>/jobs/<id>/`.
    static let legacyFileName = "checkpoint.json"
    static let currentFormat = "tagtune.job_checkpoint.v1"

    var format = JobCheckpoint.currentFormat
    var jobID: String
    var state: TrainingState

    init(jobID: String, state: TrainingState) {
        self.jobID = jobID
        self.state = state
    }

    /// JSON; the schedule starts from a best metric of -inf, which JSON has no number for.
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// The checkpoint in `data`, or nil when it is of another format or another job.
    static func decode(_ data: Data, jobID: String) throws -> JobCheckpoint? {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let checkpoint = try decoder.decode(JobCheckpoint.self, from: data)
        guard checkpoint.format == currentFormat, checkpoint.jobID == jobID else { return nil }
        return checkpoint
    }
}
