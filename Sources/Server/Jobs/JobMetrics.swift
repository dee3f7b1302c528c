import CoreMetrics
import Metrics

/// The jobs' Prometheus series: `tagtune_tuning_jobs{status}` (jobs in each status, a gauge) and
/// `tagtune_tuning_job_step_duration_seconds` (a histogram of optimisation-step times), and the
/// latest step's loss terms and gradient ratio (`tagtune_tuning_loss{term}`,
/// `tagtune_tuning_embedding_gradient_ratio`: ‖∇L_cse‖/‖∇L_cls‖, near 0 when the term is dead).
final class JobMetrics: Sendable {
    private let gauges: [JobStatus: Gauge]
    let stepDuration: Metrics.Timer
    let classificationLoss: Gauge
    let embeddingLoss: Gauge
    let gradientRatio: Gauge
    /// Jobs this replica took over from an owner whose lease expired.
    let takeovers: Counter
    /// Leases this replica found taken (it stopped writing to the job).
    let lostLeases: Counter

    init(factory: any MetricsFactory) {
        var gauges: [JobStatus: Gauge] = [:]
        for status in JobStatus.allCases {
            gauges[status] = Gauge(label: "tagtune_tuning_jobs", dimensions: [("status", status.rawValue)], factory: factory)
        }
        self.gauges = gauges
        stepDuration = Metrics.Timer(label: "tagtune_tuning_job_step_duration_seconds", dimensions: [], factory: factory)
        classificationLoss = Gauge(label: "tagtune_tuning_loss", dimensions: [("term", "classification")], factory: factory)
        embeddingLoss = Gauge(label: "tagtune_tuning_loss", dimensions: [("term", "embedding")], factory: factory)
        gradientRatio = Gauge(label: "tagtune_tuning_embedding_gradient_ratio", dimensions: [], factory: factory)
        takeovers = Counter(label: "tagtune_job_takeovers_total", dimensions: [], factory: factory)
        lostLeases = Counter(label: "tagtune_job_leases_lost_total", dimensions: [], factory: factory)
    }

    func record(statusCounts: [JobStatus: Int]) {
        for (status, count) in statusCounts { gauges[status]?.record(count) }
    }
}
