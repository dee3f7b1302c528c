import Foundation
import GRDB
import Logging

/// Start-up repair on one machine (SQLite), where every lease is a previous process's: a job found
/// `running` or `validating_files` (the process crashed, was killed, or lost power) is queued again,
/// counted as an attempt whose owner vanished, and the next claim resumes it from its last epoch
/// checkpoint when one exists (or starts it again); one whose cancellation was asked for is marked
/// cancelled. Finished jobs, their prompt sets and datasets are never touched. Replicas on
/// PostgreSQL do none of this: a lease that expires is taken over by the next claim.
enum JobRecovery {
    static func recover(database: SQLiteStore, layout: DataLayout, logger: Logger) throws {
        for job in try database.unfinishedJobsNow() {
            try importLegacyCheckpoint(job, database: database, layout: layout, logger: logger)
            guard job.status != .queued else { continue }
            if job.cancelRequested {
                try database.updateJobNow(job.id, events: [.message("cancelled: the server stopped before the job reached its next step")]) {
                    $0.status = .cancelled
                    $0.finishedAt = unixNow()
                    $0.etaSeconds = nil
                }
                if job.kind == .batch { try? FileManager.default.removeItem(at: layout.batch(job.id)) }
                continue
            }
            let plan: String
            switch job.kind {
            case .tuning:
                plan = try database.checkpointEpochsNow(jobID: job.id).map { "resumes from the checkpoint of epoch \($0)/\(job.epochs)" }
                    ?? "starts again (no epoch had finished)"
            case .batch:
                plan = "goes on after the images whose results were written"
            }
            try database.updateJobNow(job.id, events: [.message(
                "the server restarted while the job was \(job.status.rawValue); queued again, it \(plan)", level: .warn)]) {
                $0.status = .queued
                $0.etaSeconds = nil
                $0.lostAttempts += 1
            }
            logger.warning("job re-queued after a restart", metadata: ["job": .string(job.id), "plan": .string(plan)])
        }
        // Checkpoint folders of servers before checkpoints moved into the store: imported above, or of finished jobs.
        try? FileManager.default.removeItem(at: layout.dataDirectory.appendingPathComponent("jobs", isDirectory: true))
    }

    /// A checkpoint a server before v4 wrote to `<data_dir>/jobs/<id>/checkpoint.json` moves into the store.
    private static func importLegacyCheckpoint(_ job: JobRecord, database: SQLiteStore, layout: DataLayout, logger: Logger) throws {
        let file = layout.dataDirectory.appendingPathComponent("jobs/\(job.id)/\(JobCheckpoint.legacyFileName)")
        guard let data = try? Data(contentsOf: file) else { return }
        guard let checkpoint = try? JobCheckpoint.decode(data, jobID: job.id) else {
            logger.warning("unreadable checkpoint file left by an earlier version; the job starts again", metadata: ["job": .string(job.id)])
            return
        }
        try database.importCheckpointNow(jobID: job.id, state: data, epochsDone: checkpoint.state.epochsDone, attempt: job.attempt)
    }

    /// Batch folders without a job row (a crash between receiving a zip and recording the batch) go.
    static func removeOrphanBatchFolders(database: SQLiteStore, layout: DataLayout) throws {
        let known = try database.pool.read { try String.fetchSet($0, sql: "SELECT id FROM job WHERE kind = 'batch'") }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.batches.path)) ?? [] where !known.contains(name) {
            try FileManager.default.removeItem(at: layout.batches.appendingPathComponent(name))
        }
    }
}
