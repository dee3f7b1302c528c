import CLIP
import Foundation
import Hummingbird
import Imaging
import Logging
import Metrics
import Tuning

/// The datasets-and-jobs half of the server, assembled: the SQLite store (after start-up repair),
/// the dataset and job routes, and the job worker service to run beside the HTTP server.
public final class TuningBackend: Sendable {
    public let database: TuningDatabase
    public let worker: JobWorker
    public let layout: DataLayout
    let datasets: DatasetsController
    let jobs: JobsController
    let batches: BatchesController
    /// Posts finished jobs and batches to the configured endpoints; nil without endpoints.
    let webhooks: WebhookDispatcher?
    /// Batches tag through the application's tagger, connected once it is built.
    let tagging = TaggingLink()

    /// Opens the database under `data_dir`, removes what a crash left half-made, re-queues jobs that
    /// were running, and builds the routes and the worker. `loadEncoder` gives the worker its encoder
    /// by model name; by default `<models.dir>/<name>` is loaded once and kept.
    public convenience init(configuration: ServerConfiguration, metricsFactory: any MetricsFactory, logger: Logger,
                            loadEncoder: (@Sendable (String) async throws -> CLIPModel)? = nil) throws {
        try self.init(configuration: configuration, metricsFactory: metricsFactory, logger: logger, loadEncoder: loadEncoder,
                      jobFiles: .disk)
    }

    /// The same, with the job files' writes replaceable (tests make them fail as a full disk does).
    init(configuration: ServerConfiguration, metricsFactory: any MetricsFactory, logger: Logger,
         loadEncoder: (@Sendable (String) async throws -> CLIPModel)?, jobFiles: JobFileWriter) throws {
        let layout = DataLayout(configuration: configuration)
        try layout.createFolders()
        let metrics = JobMetrics(factory: metricsFactory)
        let database = try TuningDatabase(url: layout.database, jobStatusCounts: { metrics.record(statusCounts: $0) })
        // Before recovery, which may cancel jobs: their webhooks go out too.
        let webhooks = configuration.webhooks.isEnabled
            ? WebhookDispatcher(configuration: configuration.webhooks, database: database, logger: logger) : nil
        if let webhooks { database.jobFinished.withLockedValue { $0 = { webhooks.notify($0) } } }
        self.webhooks = webhooks
        let importer = DatasetImporter(layout: layout, database: database, configuration: configuration)
        try importer.removeIncompleteDatasets()
        try JobRecovery.recover(database: database, layout: layout, logger: logger)
        try JobRecovery.removeOrphanBatchFolders(database: database, layout: layout)

        let cache = EncoderCache(modelsDirectory: layout.modelsDirectory)
        let cancellations = CancellationRequests()
        let signal = JobQueueSignal()
        let decodeLimits = DecodeLimits(maxEncodedBytes: DecodeLimits.default.maxEncodedBytes,
                                        maxPixelCount: configuration.limits.maxImagePixels)
        let runner = JobRunner(layout: layout, database: database, loadEncoder: loadEncoder ?? { try await cache.load($0) },
                               cancellations: cancellations, metrics: metrics, decodeLimits: decodeLimits, files: jobFiles,
                               logger: logger)
        let zipLimits = ZipLimits(maximumEntryCount: ZipLimits.default.maximumEntryCount,
                                  maximumTotalUncompressedBytes: UInt64(configuration.datasetMaxInflatedBytes),
                                  maximumCompressionRatio: ZipLimits.default.maximumCompressionRatio)
        let batchRunner = BatchRunner(layout: layout, database: database, tagging: tagging, cancellations: cancellations,
                                      decodeLimits: decodeLimits, zipLimits: zipLimits, logger: logger)
        self.layout = layout
        self.database = database
        worker = JobWorker(database: database, runner: runner, batches: batchRunner, signal: signal,
                           concurrency: configuration.jobsConcurrency, logger: logger)
        batches = BatchesController(layout: layout, database: database, signal: signal, cancellations: cancellations, tagging: tagging,
                                    maximumUploadBytes: configuration.datasetMaxUploadBytes, zipLimits: zipLimits)
        datasets = DatasetsController(layout: layout, database: database, importer: importer,
                                      maximumUploadBytes: configuration.datasetMaxUploadBytes)
        jobs = JobsController(layout: layout, database: database, signal: signal, cancellations: cancellations)
    }

    /// Adds `/v1/datasets…`, `/v1/tuning/jobs…` and `/v1/batches…` to the router.
    func register(on router: TableRouter) {
        datasets.register(on: router)
        jobs.register(on: router)
        batches.register(on: router)
    }
}
