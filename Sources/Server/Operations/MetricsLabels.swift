import Prometheus

extension PrometheusMetricsFactory {
    /// Series describing the whole cluster (read from the shared database, the same on every
    /// replica): they carry no `replica` label, so each is one series however many replicas export
    /// it (aggregate them with `max`, never `sum`).
    static let clusterWideSeries: Set<String> = ["tagtune_tuning_jobs", "tagtune_batch_jobs"]

    /// The server's metrics factory over `registry`: with several replicas (`replica` set) every
    /// series but the cluster-wide ones carries `replica="<replica.id>"`, so the replicas' series
    /// stay apart wherever they are scraped from.
    static func tagtune(_ registry: PrometheusCollectorRegistry, replica: String?) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        if let replica {
            factory.nameAndLabelSanitizer = { name, labels in
                clusterWideSeries.contains(name) ? (name, labels) : (name, labels + [("replica", replica)])
            }
        }
        return factory
    }
}
