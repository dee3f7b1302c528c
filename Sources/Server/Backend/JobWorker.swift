import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The background service that runs jobs (tuning and batch tagging), `concurrency` at a time: each
/// slot claims the oldest queued job, or one whose owner's lease expired (another replica died),
/// holds its lease with a heartbeat while it runs, and claims again. It looks when rung (a job was
/// created here) and every `claimPollSeconds` (created elsewhere, or a lease expired). On graceful
/// shutdown (SIGTERM/SIGINT) a running job stops at its next step and is handed back at once.
public struct JobWorker: Service {
    let store: any TuningStore
    let runner: JobRunner
    let batches: BatchRunner
    let signal: WakeSignal
    let cancellations: CancellationRequests
    let concurrency: Int
    /// This process's name in `claimed_by` (`replica.id`).
    let replica: String
    let settings: LeaseSettings
    let metrics: JobMetrics
    let logger: Logger
    /// Jobs running in this process now (the drain waits for none).
    let running = NIOLockedValueBox(0)

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for _ in 0..<concurrency {
                    group.addTask { await work() }
                }
            }
        } onGracefulShutdown: {
            stopClaiming()
        }
        // Handed back early by the drain: a service that returns before the shutdown is a failure
        // to its service group (the process would exit 1), so wait for the shutdown itself.
        try? await gracefulShutdown()
    }

    /// Running jobs stop at their next step and are handed back; nothing new is claimed.
    private func stopClaiming() {
        runner.beginShutdown()
        batches.beginShutdown()
        signal.close()
    }

    /// The first part of a shutdown, while the server still answers: hands the running jobs back
    /// and waits (up to `timeout`) until they are, so another replica can claim them at once.
    public func handBack(timeout: Duration) async {
        stopClaiming()
        let deadline = ContinuousClock.now + timeout
        while running.withLockedValue({ $0 }) > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// One worker slot: claim, run, repeat; wait for a ring or the poll interval when there is nothing.
    private func work() async {
        while !signal.isClosed && !Task.isCancelled {
            let seen = signal.generation
            do {
                if let claim = try await store.claimNextJob(replica: replica, leaseSeconds: settings.leaseSeconds) {
                    await run(claim)
                    continue
                }
            } catch {
                logger.error("cannot claim the next job", metadata: ["error": "\(error)"])
            }
            await signal.wait(after: seen, timeout: .seconds(settings.claimPollSeconds))
        }
    }

    private func run(_ claim: JobClaim) async {
        let owner = JobOwnership(store: store, claim: claim, settings: settings, cancellations: cancellations, logger: logger,
                                 onLost: { metrics.lostLeases.increment() })
        let job = claim.job
        if let previousStatus = claim.previousStatus {
            metrics.takeovers.increment()
            logger.warning("job taken over", metadata: ["job": .string(job.id), "from": .string(claim.previousOwner ?? "?")])
            if job.lostAttempts >= settings.maxAttempts {
                await end(owner, JobFailure("worker_lost", """
                    the servers running this job stopped or were cut off \(job.lostAttempts) times (jobs.max_attempts is \
                    \(settings.maxAttempts)); it is not tried again
                    """))
                return
            }
            try? await owner.write { store, lease in
                try await store.appendEvent(.message("""
                    taken over by \(replica) (attempt \(lease.attempt)): \(claim.previousOwner ?? "its server") stopped renewing its \
                    lease while the job was \(previousStatus.rawValue)
                    """, level: .warn), lease: lease)
            }
        } else if job.lostAttempts >= settings.maxAttempts {
            // One machine: the restarts found it running each time (SQLite's recovery re-queues and counts them).
            await end(owner, JobFailure("worker_lost", """
                the server stopped while running this job \(job.lostAttempts) times (jobs.max_attempts is \(settings.maxAttempts)); \
                it is not tried again
                """))
            return
        }
        if job.cancelRequested {
            cancellations.request(job.id)
        }
        running.withLockedValue { $0 += 1 }
        defer { running.withLockedValue { $0 -= 1 } }
        await owner.holdingLease {
            switch job.kind {
            case .tuning: await runner.run(owner)
            case .batch: await batches.run(owner)
            }
        }
    }

    private func end(_ owner: JobOwnership, _ failure: JobFailure) async {
        logger.error("job failed", metadata: ["job": .string(owner.jobID), "code": .string(failure.code)])
        do {
            try await owner.write { store, lease in
                try await store.finishJob(lease, events: [.message("failed: \(failure.message)", level: .error)]) { $0.markFailed(failure) }
            }
        } catch {
            logger.error("cannot record the job's failure", metadata: ["error": "\(error)"])
        }
    }
}
