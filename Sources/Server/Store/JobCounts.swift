/// Jobs in each status, for each kind: the `tagtune_tuning_jobs{status}` and
/// `tagtune_batch_jobs{status}` gauges (the queues a worker fleet scales on). Every status is
/// present, zero when no job has it, so a series drops to 0 instead of keeping its last value.
public struct JobCounts: Sendable, Equatable {
    public var tuning: [JobStatus: Int]
    public var batches: [JobStatus: Int]

    /// The one query both stores run; its rows go to `add`.
    static let query = "SELECT kind, status, count(*) FROM job GROUP BY kind, status"

    public init(tuning: [JobStatus: Int] = [:], batches: [JobStatus: Int] = [:]) {
        let zero = Dictionary(uniqueKeysWithValues: JobStatus.allCases.map { ($0, 0) })
        self.tuning = zero.merging(tuning) { $1 }
        self.batches = zero.merging(batches) { $1 }
    }

    /// One row of `query`; kinds and statuses this version does not know are left out.
    mutating func add(kind: String, status: String, count: Int) {
        guard let status = JobStatus(rawValue: status) else { return }
        switch JobKind(rawValue: kind) {
        case .tuning: tuning[status] = count
        case .batch: batches[status] = count
        case nil: break
        }
    }
}
