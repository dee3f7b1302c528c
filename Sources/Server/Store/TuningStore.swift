import Foundation
import NIOConcurrencyHelpers

/// The contract of the store that holds datasets, jobs, their events and checkpoints: SQLite on one
/// machine (the default; Store/SQLite) or PostgreSQL shared by replicas (chosen by `database.url`;
/// Store/Postgres). One conformance suite (StoreContractTests) runs against both.
///
/// A job is run by whichever replica claims it. The claim gives a `JobLease`: the replica's id and the
/// job's `attempt`, raised by every claim. Every write the owner makes names its lease and changes
/// nothing once another claim has raised the attempt (a fencing token), so a replica that was paused
/// past its lease, or cut off, cannot overwrite its successor's work. The owner keeps the lease by
/// renewing it; one not renewed in time expires and the next claim anywhere takes the job over.
protocol TuningStore: AnyObject, Sendable {
    /// Told each job that has just finished (succeeded, failed, cancelled) by a change made through
    /// this store object, after the change is committed: the webhooks, set once the dispatcher exists.
    var jobFinished: NIOLockedValueBox<(@Sendable (JobRecord) -> Void)?> { get }

    // MARK: Datasets

    func insert(_ dataset: DatasetRecord) async throws
    func dataset(_ id: String) async throws -> DatasetRecord?
    /// Every dataset id (the start-up sweep removes folders that have no row).
    func datasetIDs() async throws -> Set<String>
    /// Datasets newest first, those older than `after`; nil when `after` names no dataset.
    func datasets(after: String?, limit: Int) async throws -> Page<DatasetRecord>?
    /// Deletes the row unless an unfinished job uses the dataset, atomically with that check.
    func deleteDataset(_ id: String) async throws -> DatasetDeletion
    /// The SHA-256 of every blob a dataset row names (the orphan sweep keeps these).
    func datasetBlobs() async throws -> Set<String>

    // MARK: The housekeeping

    /// Runs `body` if no other replica is doing housekeeping now (PostgreSQL: a transaction-level
    /// try-lock, released when `body` returns); nil when another one is.
    func withHousekeepingLock<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T?
    /// Deletes the events of finished jobs written before `cutoff` (unix seconds); the count deleted.
    func pruneEvents(before cutoff: Int64) async throws -> Int

    // MARK: Jobs, from any replica

    /// Inserts a queued job with its first event, after checking (in the same transaction) that its datasets exist.
    func createJob(_ job: JobRecord, datasets: [(param: String, id: String)], event: NewJobEvent) async throws -> JobCreation
    func job(_ id: String) async throws -> JobRecord?
    /// Jobs of `kind` newest first, those created before `after`; nil when `after` names no such job.
    func jobs(after: String?, limit: Int, kind: JobKind) async throws -> Page<JobRecord>?
    /// The ids of every job of `kind` (the start-up sweep of batch folders).
    func jobIDs(kind: JobKind) async throws -> Set<String>
    /// Cancels a queued job at once; marks a running one, whose owner stops at its next step.
    func cancelJob(_ id: String) async throws -> JobCancellation
    /// A job's events newest first, those older than `after`; nil when `after` names no event of this job.
    func events(jobID: String, after: String?, limit: Int) async throws -> Page<JobEventRecord>?
    /// An event that is not the owner's (a webhook delivery's outcome): written whoever runs the job.
    func appendEvent(_ event: NewJobEvent, jobID: String) async throws

    // MARK: The owner's, fenced by its lease

    /// Takes the oldest job that is queued, or whose owner's lease has expired (a takeover), for
    /// `replica`: marks it `validating_files`, raises its attempt and leases it for `leaseSeconds`.
    /// Two claims, from any replicas, never take the same job.
    func claimNextJob(replica: String, leaseSeconds: Double) async throws -> JobClaim?
    /// Extends the lease by `seconds` from now; `.lost` once another claim has taken the job (or it finished).
    func renewLease(_ lease: JobLease, seconds: Double) async throws -> LeaseRenewal
    /// Changes the job and appends events in one transaction; throws `LeaseLost` (changing nothing)
    /// when the lease is no longer this owner's. A job that ends drops its checkpoint; one that ends
    /// or goes back to the queue releases its lease.
    @discardableResult
    func updateJob(_ lease: JobLease, events: [NewJobEvent], _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord
    /// Appends an event as the owner; `LeaseLost` when the lease is gone.
    func appendEvent(_ event: NewJobEvent, lease: JobLease) async throws
    /// Stores the job's training state after `epochsDone` epochs (replacing an older one) with its event.
    func saveCheckpoint(_ state: Data, epochsDone: Int, lease: JobLease, event: NewJobEvent) async throws
    /// The job's last checkpoint, whoever wrote it.
    func checkpoint(jobID: String) async throws -> StoredCheckpoint?
    /// Marks the job succeeded with prompt set `promptSetID` (its checkpoint goes, the lease is
    /// released). A store that keeps prompt sets for every replica (`keepsPromptSets`) stores
    /// `files` under that id in the same transaction, so the job and its prompt set appear together.
    @discardableResult
    func completeJob(_ lease: JobLease, promptSetID: String, files: PromptSetFiles?, event: NewJobEvent,
                     _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord
    /// True when finished jobs' prompt sets live in the store (PostgreSQL), false when the prompt
    /// sets folder is their only record (one machine).
    var keepsPromptSets: Bool { get }
}

/// What a claim hands its owner: the job as claimed, and the lease every later write names.
struct JobClaim: Sendable {
    var job: JobRecord
    var lease: JobLease
    /// Who held the job before, when this claim took it over from an owner whose lease expired.
    var previousOwner: String?
    /// The job's status when it was taken over (`validating_files` or `running`); nil for a queued job.
    var previousStatus: JobStatus?

    var isTakeover: Bool { previousStatus != nil }
}

/// The right to write to one job: held by `replica` for `attempt` until another claim raises it.
struct JobLease: Sendable, Hashable {
    var jobID: String
    var replica: String
    var attempt: Int
}

/// What renewing a lease found.
enum LeaseRenewal: Sendable, Equatable {
    /// Still this owner's; `cancelRequested` carries a cancel made on any replica.
    case held(cancelRequested: Bool)
    /// Taken over, or finished: the owner must stop and write nothing more.
    case lost
}

/// An owner's write found that its lease was no longer its own: nothing was changed.
struct LeaseLost: Error, Sendable, CustomStringConvertible {
    var lease: JobLease
    var description: String { "the lease of \(lease.jobID) (attempt \(lease.attempt), \(lease.replica)) was lost to another claim" }
}

/// A job's stored training state: the bytes, which attempt wrote them, after how many epochs.
struct StoredCheckpoint: Sendable {
    var state: Data
    var epochsDone: Int
    var attempt: Int
}

/// What became of a request to create a job.
enum JobCreation: Sendable {
    case created(JobRecord)
    /// A dataset it names does not exist (`param`: the request field naming it).
    case missingDataset(param: String, id: String)
}

/// What became of a request to cancel a job.
enum JobCancellation: Sendable {
    case notFound
    /// Already succeeded, failed or cancelled: nothing to cancel.
    case finished(JobRecord)
    /// Was queued: cancelled at once.
    case cancelled(JobRecord)
    /// Is running: it stops at its next step.
    case requested(JobRecord)
}

/// What became of a request to delete a dataset.
enum DatasetDeletion: Sendable {
    case deleted
    case notFound
    /// Unfinished jobs still need it.
    case inUse(jobIDs: [String])
}

/// One page of a cursor-paginated listing, newest first: the items and whether older ones follow.
struct Page<Item: Sendable>: Sendable {
    var items: [Item]
    var hasMore: Bool

    /// A page from up to `limit + 1` fetched rows: the extra row only says that more follow.
    init(fetched: [Item], limit: Int) {
        items = Array(fetched.prefix(limit))
        hasMore = fetched.count > limit
    }
}

extension TuningStore {
    /// Tells the listener (the webhooks) that `job` has finished.
    func announceFinished(_ job: JobRecord) {
        if job.status.isFinished, let listener = jobFinished.withLockedValue({ $0 }) { listener(job) }
    }

    func jobs(after: String?, limit: Int) async throws -> Page<JobRecord>? {
        try await jobs(after: after, limit: limit, kind: .tuning)
    }

    /// A job of one kind (a batch id never answers as a tuning job, nor the reverse).
    func job(_ id: String, kind: JobKind) async throws -> JobRecord? {
        try await job(id).flatMap { $0.kind == kind ? $0 : nil }
    }

    /// The change that marks a job succeeded with its prompt set, after the caller's own.
    static func succeeded(promptSetID: String, _ change: @escaping @Sendable (inout JobRecord) -> Void)
        -> @Sendable (inout JobRecord) -> Void {
        { job in
            change(&job)
            job.status = .succeeded
            job.promptSetID = promptSetID
        }
    }

    /// Ends the job (failed or cancelled, set by `change`): an update that finishes it.
    @discardableResult
    func finishJob(_ lease: JobLease, events: [NewJobEvent], _ change: @escaping @Sendable (inout JobRecord) -> Void) async throws -> JobRecord {
        try await updateJob(lease, events: events, change)
    }

    /// Hands the job back (a graceful shutdown): queued again at once for any replica, its checkpoint kept.
    func releaseJob(_ lease: JobLease, event: NewJobEvent) async throws {
        try await updateJob(lease, events: [event]) { job in
            job.status = .queued
            job.etaSeconds = nil
        }
    }
}
