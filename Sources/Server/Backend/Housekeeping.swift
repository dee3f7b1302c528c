import Foundation
import Logging
import ServiceLifecycle

/// Periodic cleanup. On every replica: unpacked datasets no row names any more. By one replica at
/// a time (the store's try-lock): job events older than `jobs.event_retention_days` (finished jobs
/// only; a running job keeps its whole log) and blobs no dataset row names, once they are older
/// than `orphanGrace` (an upload stores its blob before its row, and a second upload of the same
/// bytes touches it).
struct Housekeeping: Service {
    let store: any TuningStore
    let blobs: any BlobStore
    let cache: DatasetCache
    let intervalSeconds: Double
    let eventRetentionDays: Double
    var orphanGrace: Duration = .seconds(3600)
    let logger: Logger

    struct Report: Sendable, Equatable {
        var eventsPruned = 0
        var blobsRemoved = 0
        /// False when another replica held the housekeeping lock.
        var ranShared = false
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(intervalSeconds))
                do {
                    let report = try await runOnce()
                    if report.eventsPruned > 0 || report.blobsRemoved > 0 {
                        logger.info("housekeeping", metadata: ["events_pruned": .stringConvertible(report.eventsPruned),
                                                               "blobs_removed": .stringConvertible(report.blobsRemoved)])
                    }
                } catch {
                    logger.warning("housekeeping failed; trying again later", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// One pass (tests call it directly).
    func runOnce(now: Date = Date()) async throws -> Report {
        let referenced = try await store.datasetBlobs()
        cache.sweep(keeping: referenced, includingStaging: false, unreferenced: true)
        let (store, blobs, grace, retention) = (self.store, self.blobs, orphanGrace, eventRetentionDays)
        let shared = try await store.withHousekeepingLock { () -> Report in
            var report = Report(ranShared: true)
            if retention > 0 {
                report.eventsPruned = try await store.pruneEvents(before: Int64(now.timeIntervalSince1970 - retention * 86_400))
            }
            // Read again under the lock: a row written since the first read keeps its blob.
            let stillReferenced = try await store.datasetBlobs()
            let oldest = now.addingTimeInterval(-Double(grace.components.seconds))
            for blob in try blobs.list() where !stillReferenced.contains(blob.sha256) && blob.modified <= oldest {
                try blobs.remove(blob.sha256)
                report.blobsRemoved += 1
            }
            return report
        }
        return shared ?? Report()
    }
}
