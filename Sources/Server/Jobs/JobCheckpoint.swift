import CLIP
import Foundation
import Tuning

/// A running job's state after its last finished epoch (`<data_dir>/jobs/<id>/checkpoint.json`),
/// written atomically (temporary file, then rename), so a restarted server resumes at the next epoch.
struct JobCheckpoint: Codable, Sendable {
    static let fileName = "checkpoint.json"
    static let currentFormat = "tagtune.job_checkpoint.v1"

    var format = JobCheckpoint.currentFormat
    var jobID: String
    var state: TrainingState

    init(jobID: String, state: TrainingState) {
        self.jobID = jobID
        self.state = state
    }

    static func url(in folder: URL) -> URL { folder.appendingPathComponent(fileName) }

    /// The checkpoint of job `jobID` in `folder`, or nil when there is none (or it is not this job's).
    static func load(from folder: URL, jobID: String) throws -> JobCheckpoint? {
        let url = url(in: folder)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let checkpoint = try decoder.decode(JobCheckpoint.self, from: Data(contentsOf: url))
        guard checkpoint.format == currentFormat, checkpoint.jobID == jobID else { return nil }
        return checkpoint
    }

    func write(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // The schedule starts from a best metric of -inf, which JSON has no number for.
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try encoder.encode(self), to: Self.url(in: folder))
    }
}
