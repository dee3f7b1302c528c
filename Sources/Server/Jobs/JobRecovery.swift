import Foundation
import Logging

/// Start-up repair of jobs the last process left unfinished (it crashed, was killed, or lost power):
/// a job found `running` or `validating_files` is queued again, and the worker resumes it from its
/// last epoch checkpoint when one exists (or starts it again); one whose cancellation was asked for
/// is marked cancelled. Finished jobs, their prompt sets and datasets are never touched.
enum JobRecovery {
    static func recover(database: TuningDatabase, layout: DataLayout, logger: Logger) throws {
        for job in try database.unfinishedJobs() where job.status != .queued {
            let folder = layout.job(job.id)
            if job.cancelRequested {
                try database.updateJob(job.id, events: [.message("cancelled: the server stopped before the job reached its next step")]) {
                    $0.status = .cancelled
                    $0.finishedAt = unixNow()
                    $0.etaSeconds = nil
                }
                try? FileManager.default.removeItem(at: job.kind == .batch ? layout.batch(job.id) : folder)
                continue
            }
            let plan: String
            switch job.kind {
            case .tuning:
                let checkpoint = try? JobCheckpoint.load(from: folder, jobID: job.id)
                plan = checkpoint.map { "resumes from the checkpoint of epoch \($0.state.epochsDone)/\(job.epochs)" }
                    ?? "starts again (no epoch had finished)"
            case .batch:
                plan = "goes on after the images whose results were written"
            }
            try database.updateJob(job.id, events: [.message(
                "the server restarted while the job was \(job.status.rawValue); queued again, it \(plan)", level: .warn)]) {
                $0.status = .queued
                $0.etaSeconds = nil
            }
            logger.warning("job re-queued after a restart", metadata: ["job": .string(job.id), "plan": .string(plan)])
        }
    }

    /// Batch folders without a job row (a crash between receiving a zip and recording the batch) go.
    static func removeOrphanBatchFolders(database: TuningDatabase, layout: DataLayout) throws {
        let known = try database.pool.read { try String.fetchSet($0, sql: "SELECT id FROM job WHERE kind = 'batch'") }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.batches.path)) ?? [] where !known.contains(name) {
            try FileManager.default.removeItem(at: layout.batches.appendingPathComponent(name))
        }
    }
}
