import Logging
import ServiceLifecycle

/// The background service that runs queued jobs (tuning and batch tagging) in the order they were
/// created, `concurrency` at a time. On graceful shutdown (SIGTERM/SIGINT) a running job stops at its next step and is
/// queued again, to resume from its last checkpoint at the next start.
public struct JobWorker: Service {
    let database: TuningDatabase
    let runner: JobRunner
    let batches: BatchRunner
    let signal: JobQueueSignal
    let concurrency: Int
    let logger: Logger

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for _ in 0..<concurrency {
                    group.addTask { await work() }
                }
            }
        } onGracefulShutdown: {
            runner.beginShutdown()
            batches.beginShutdown()
            signal.close()
        }
    }

    /// One worker slot: take the oldest queued job, run it, repeat; sleep until rung when there is none.
    private func work() async {
        while !signal.isClosed {
            let seen = signal.generation
            do {
                let database = self.database
                if let job = try await OffloadedWork.run({ try database.claimNextQueuedJob() }) {
                    switch job.kind {
                    case .tuning: await runner.run(job)
                    case .batch: await batches.run(job)
                    }
                    continue
                }
            } catch {
                logger.error("cannot take the next job", metadata: ["error": "\(error)"])
            }
            await signal.wait(after: seen)
        }
    }
}
