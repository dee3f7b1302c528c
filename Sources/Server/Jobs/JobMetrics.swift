import CoreMetrics
import Metrics
import NIOConcurrencyHelpers

/// The jobs' Prometheus series: `tagtune_tuning_jobs{status}` and `tagtune_batch_jobs{status}`
/// (jobs of each kind in each status, gauges: on several replicas only one exports them) and
/// `tagtune_tuning_job_step_duration_seconds` (a histogram of optimisation-step times), and the
/// latest step's loss terms and gradient ratio (`tagtune_tuning_loss{term}`,
/// `tagtune_tuning_embedding_gradient_ratio`: ‖∇L_cse‖/‖∇L_cls‖, near 0 when the term is dead).
final class JobMetrics: Sendable {
    private let factory: any MetricsFactory
    /// Nil while this replica does not export the cluster's counts (another replica does).
    private let gauges = NIOLockedValueBox<(tuning: [JobStatus: Gauge], batches: [JobStatus: Gauge])?>(nil)
    let stepDuration: Metrics.Timer
    let classificationLoss: Gauge
    let embeddingLoss: Gauge
    let gradientRatio: Gauge
    /// Jobs this replica took over from an owner whose lease expired.
    let takeovers: Counter
    /// Leases this replica found taken (it stopped writing to the job).
    let lostLeases: Counter

    init(factory: any MetricsFactory) {
        self.factory = factory
        stepDuration = Metrics.Timer(label: "tagtune_tuning_job_step_duration_seconds", dimensions: [], factory: factory)
        classificationLoss = Gauge(label: "tagtune_tuning_loss", dimensions: [("term", "classification")], factory: factory)
        embeddingLoss = Gauge(label: "tagtune_tuning_loss", dimensions: [("term", "embedding")], factory: factory)
        gradientRatio = Gauge(label: "tagtune_tuning_embedding_gradient_ratio", dimensions: [], factory: factory)
        takeovers = Counter(label: "tagtune_job_takeovers_total", dimensions: [], factory: factory)
        lostLeases = Counter(label: "tagtune_job_leases_lost_total", dimensions: [], factory: factory)
    }

    /// Exports the jobs in each status (the series appear with the first call).
    func record(_ counts: JobCounts) {
        gauges.withLockedValue { gauges in
            let (factory, statuses) = (self.factory, JobStatus.allCases)
            func make(_ label: String) -> [JobStatus: Gauge] {
                Dictionary(uniqueKeysWithValues: statuses.map { ($0, Gauge(label: label, dimensions: [("status", $0.rawValue)], factory: factory)) })
            }
            if gauges == nil { gauges = (make("tagtune_tuning_jobs"), make("tagtune_batch_jobs")) }
            for (status, count) in counts.tuning { gauges?.tuning[status]?.record(count) }
            for (status, count) in counts.batches { gauges?.batches[status]?.record(count) }
        }
    }

    /// Stops exporting the counts: another replica exports them for the cluster.
    func withdrawCounts() {
        gauges.withLockedValue { gauges in
            if let exported = gauges {
                for gauge in Array(exported.tuning.values) + Array(exported.batches.values) { gauge.destroy() }
            }
            gauges = nil
        }
    }

    /// What the cluster-gauge publisher reports: counts to export, or nil to withdraw them.
    func publish(_ counts: JobCounts?) {
        if let counts { record(counts) } else { withdrawCounts() }
    }
}
