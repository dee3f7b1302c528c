import GRDB

/// A tuning job's status, OpenAI's vocabulary: `validating_files` while the worker checks the
/// dataset and loads the encoder, then `running`, ending in one of the three finished states.
public enum JobStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case validatingFiles = "validating_files"
    case queued
    case running
    case succeeded
    case failed
    case cancelled

    /// No further change will happen.
    public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }

    /// Statuses of jobs that still need their datasets.
    static let unfinished: [JobStatus] = [.validatingFiles, .queued, .running]
}
