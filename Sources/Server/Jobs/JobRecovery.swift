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
                try? FileManager.default.removeItem(at: folder)
                continue
            }
            let checkpoint = try? JobCheckpoint.load(from: folder, jobID: job.id)
            let plan = checkpoint.map { "resumes from the checkpoint of epoch \($0.state.epochsDone)/\(job.epochs)" }
                ?? "starts again (no epoch had finished)"
            try database.updateJob(job.id, events: [.message(
                "the server restarted while the job was \(job.status.rawValue); queued again, it \(plan)", level: .warn)]) {
                $0.status = .queued
                $0.etaSeconds = nil
            }
            logger.warning("job re-queued after a restart", metadata: ["job": .string(job.id), "plan": .string(plan)])
        }
    }
}
