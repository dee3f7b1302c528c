import CoreMetrics
import Metrics

/// The jobs' Prometheus series: `tagtune_tuning_jobs{status}` (jobs in each status, a gauge) and
/// `tagtune_tuning_job_step_duration_seconds` (a histogram of optimisation-step times).
final class JobMetrics: Sendable {
    private let gauges: [JobStatus: Gauge]
    let stepDuration: Metrics.Timer

    init(factory: any MetricsFactory) {
        var gauges: [JobStatus: Gauge] = [:]
        for status in JobStatus.allCases {
            gauges[status] = Gauge(label: "tagtune_tuning_jobs", dimensions: [("status", status.rawValue)], factory: factory)
        }
        self.gauges = gauges
        stepDuration = Metrics.Timer(label: "tagtune_tuning_job_step_duration_seconds", dimensions: [], factory: factory)
    }

    func record(statusCounts: [JobStatus: Int]) {
        for (status, count) in statusCounts { gauges[status]?.record(count) }
    }
}
