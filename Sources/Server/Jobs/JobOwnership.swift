import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers

/// A claimed job as its owner holds it: the lease every write names, a heartbeat that renews it on
/// its own task (feature extraction can take minutes between trainer events), and a flag once it
/// is lost. The trainer runs on a Dispatch thread and writes through the blocking methods here.
final class JobOwnership: Sendable {
    let store: any TuningStore
    let claim: JobClaim
    let settings: LeaseSettings
    let cancellations: CancellationRequests
    let logger: Logger
    private let lost = CancellationFlag()
    /// Told once when the lease is found lost (the metrics' counter).
    private let onLost: @Sendable () -> Void

    init(store: any TuningStore, claim: JobClaim, settings: LeaseSettings, cancellations: CancellationRequests, logger: Logger,
         onLost: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.claim = claim
        self.settings = settings
        self.cancellations = cancellations
        self.logger = logger
        self.onLost = onLost
    }

    var lease: JobLease { claim.lease }
    var jobID: String { claim.lease.jobID }
    /// Another claim took the job, or the lease could not be renewed in time: write nothing more.
    var isLost: Bool { lost.isSet }

    private func markLost(_ why: String) {
        guard !lost.isSet else { return }
        lost.set()
        onLost()
        logger.warning("lost the job's lease; stopping without writing", metadata: ["job": .string(jobID), "why": .string(why)])
    }

    /// Runs `body` while a heartbeat renews the lease; the heartbeat stops when `body` returns.
    func holdingLease<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        let heartbeat = Task { await renewUntilCancelled() }
        defer { heartbeat.cancel() }
        return try await body()
    }

    private func renewUntilCancelled() async {
        let clock = ContinuousClock()
        var lastRenewed = clock.now
        while !Task.isCancelled && !isLost {
            do { try await Task.sleep(for: .seconds(settings.heartbeatSeconds)) } catch { return }
            do {
                switch try await store.renewLease(lease, seconds: settings.leaseSeconds) {
                case .held(let cancelRequested):
                    lastRenewed = clock.now
                    // The fallback when the cancel's notification was missed, or made on another replica.
                    if cancelRequested { cancellations.request(jobID) }
                case .lost:
                    markLost("another replica claimed it")
                }
            } catch {
                logger.warning("cannot renew the job's lease", metadata: ["job": .string(jobID), "error": "\(error)"])
                // Past the lease another replica may have taken it: assume so.
                if clock.now - lastRenewed > .seconds(settings.leaseSeconds) { markLost("not renewed for \(settings.leaseSeconds) s") }
            }
        }
    }

    // MARK: The owner's writes

    @discardableResult
    /// Runs a fenced write; a `LeaseLost` marks the ownership lost before it is rethrown.
    func write<T: Sendable>(_ body: @escaping @Sendable (any TuningStore, JobLease) async throws -> T) async throws -> T {
        if isLost { throw LeaseLost(lease: lease) }
        do { return try await body(store, lease) } catch let error as LeaseLost {
            markLost("a write found the lease taken")
            throw error
        }
    }

    @discardableResult
    /// The same from a thread that may block (the trainer's Dispatch thread, never the concurrency pool).
    func writeBlocking<T: Sendable>(_ body: @escaping @Sendable (any TuningStore, JobLease) async throws -> T) throws -> T {
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let value = try await write(body)
                result.withLockedValue { $0 = .success(value) }
            } catch {
                result.withLockedValue { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return try result.withLockedValue { $0! }.get()
    }

    @discardableResult
    func update(events: [NewJobEvent] = [], _ change: @escaping @Sendable (inout JobRecord) -> Void) throws -> JobRecord {
        try writeBlocking { try await $0.updateJob($1, events: events, change) }
    }

    func appendEvent(_ event: NewJobEvent) throws {
        try writeBlocking { try await $0.appendEvent(event, lease: $1) }
    }
}
