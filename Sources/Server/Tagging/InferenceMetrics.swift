import CoreMetrics
import Prometheus

/// The batcher's series: `tagtune_inference_queue_duration_seconds` and
/// `tagtune_inference_duration_seconds` (histograms), `tagtune_inference_batch_size`
/// (histogram of images per batched call), `tagtune_inference_queue_depth` (images waiting).
struct InferenceMetrics: Sendable {
    static let batchSizeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    let queueDuration: CoreMetrics.Timer
    let inferenceDuration: CoreMetrics.Timer
    let batchSize: CoreMetrics.Recorder
    let queueDepth: CoreMetrics.Gauge

    init(factory: PrometheusMetricsFactory) {
        var factory = factory
        factory.valueHistogramBuckets["tagtune_inference_batch_size"] = Self.batchSizeBuckets
        queueDuration = CoreMetrics.Timer(label: "tagtune_inference_queue_duration_seconds", factory: factory)
        inferenceDuration = CoreMetrics.Timer(label: "tagtune_inference_duration_seconds", factory: factory)
        batchSize = CoreMetrics.Recorder(label: "tagtune_inference_batch_size", aggregate: true, factory: factory)
        queueDepth = CoreMetrics.Gauge(label: "tagtune_inference_queue_depth", factory: factory)
        queueDepth.record(0)
    }
}
