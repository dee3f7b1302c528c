import Foundation
import Tuning

/// The two large writes a job makes beside its progress: a checkpoint after each epoch (into the
/// store, fenced by the lease) and its prompt set at the end. A seam, so that tests can make these
/// writes fail as a full disk does.
struct JobWrites: Sendable {
    var checkpoint: @Sendable (JobCheckpoint, JobOwnership, NewJobEvent) throws -> Void
    var promptSet: @Sendable (PromptSet, URL) throws -> Void

    /// The real writes: the checkpoint in one transaction with its event; the prompt set atomic
    /// (a temporary folder, then a rename).
    static let store = JobWrites(
        checkpoint: { checkpoint, owner, event in
            let bytes = try checkpoint.encoded()
            try owner.writeBlocking { store, lease in
                try await store.saveCheckpoint(bytes, epochsDone: checkpoint.state.epochsDone, lease: lease, event: event)
            }
        },
        promptSet: { promptSet, folder in try promptSet.write(to: folder, replace: true) })
}
