import Foundation
import Tuning

/// The files a job writes beside its database rows: a checkpoint after each epoch and its prompt
/// set at the end. A seam, so that tests can make these writes fail as a full disk does.
struct JobFileWriter: Sendable {
    var checkpoint: @Sendable (JobCheckpoint, URL) throws -> Void
    var promptSet: @Sendable (PromptSet, URL) throws -> Void

    /// The real writes: both atomic (a temporary file or folder, then a rename).
    static let disk = JobFileWriter(
        checkpoint: { checkpoint, folder in try checkpoint.write(to: folder) },
        promptSet: { promptSet, folder in try promptSet.write(to: folder, replace: true) })
}
