import CLIP
import Foundation
import Hummingbird
import Imaging
import Logging
import Metrics
import Tuning

/// The datasets-and-jobs half of the server, assembled: the store (SQLite after start-up repair, or
/// the PostgreSQL shared by replicas), the dataset and job routes, and the job worker service to
/// run beside the HTTP server.
public final class TuningBackend: Sendable {
    let store: any TuningStore
    /// The PostgreSQL store, a service to run first (it migrates, then opens); nil on SQLite.
    let postgres: PostgresStore?
    /// With PostgreSQL: exports the cluster's job gauges while this replica holds their lock.
    let clusterGauges: PostgresClusterGauges?
    public let worker: JobWorker
    /// This process's name in job leases (`replica.id`, or chosen at start).
    public let replica: String
    public let layout: DataLayout
    let datasets: DatasetsController
    let jobs: JobsController
    let batches: BatchesController
    /// Posts finished jobs and batches to the configured endpoints; nil without endpoints.
    let webhooks: WebhookDispatcher?
    /// Event retention and orphaned blobs, periodically.
    let housekeeping: Housekeeping
    /// Rung when a job is queued (here, or elsewhere as the listener hears).
    let signal: WakeSignal
    /// Cancels of running jobs, for the trainer to poll.
    let cancellations: CancellationRequests
    /// Batches tag through the application's tagger, connected once it is built.
    let tagging = TaggingLink()

    /// Opens the store (SQLite under `data_dir`: removing what a crash left half-made and re-queuing
    /// jobs that were running; PostgreSQL: opened by its service), and builds the routes and the worker. `loadEncoder` gives the worker its encoder
    /// by model name; by default `<models.dir>/<name>` is loaded once and kept.
    public convenience init(configuration: ServerConfiguration, metricsFactory: any MetricsFactory, logger: Logger,
                            loadEncoder: (@Sendable (String) async throws -> CLIPModel)? = nil) throws {
        try self.init(configuration: configuration, metricsFactory: metricsFactory, logger: logger, loadEncoder: loadEncoder,
                      jobFiles: .store)
    }

    /// The same, with the job files' writes replaceable (tests make them fail as a full disk does).
    init(configuration: ServerConfiguration, metricsFactory: any MetricsFactory, logger: Logger,
         loadEncoder: (@Sendable (String) async throws -> CLIPModel)?, jobFiles: JobWrites) throws {
        let layout = DataLayout(configuration: configuration)
        try layout.createFolders()
        let metrics = JobMetrics(factory: metricsFactory)
        let cluster = configuration.cluster
        // One name for leases, events and the database's connection names (chosen once when not configured).
        let replica = cluster.resolvedReplicaID
        let store: any TuningStore
        let sqlite: SQLiteStore?
        if let url = cluster.databaseURL {
            let url = try PostgresURL(url)
            let postgres = PostgresStore(url: url, logger: logger, idleTransactionSeconds: cluster.leaseSeconds,
                                         applicationName: "tagtune-\(replica)")
            (store, sqlite, self.postgres) = (postgres, nil, postgres)
            clusterGauges = PostgresClusterGauges(url: url, replica: replica, interval: cluster.clusterGaugeInterval, logger: logger,
                                                  schemaReady: { try await postgres.opened() },
                                                  publish: { metrics.publish($0) })
        } else {
            let database = try SQLiteStore(url: layout.database, jobStatusCounts: { metrics.record($0) })
            (store, sqlite, postgres, clusterGauges) = (database, database, nil, nil)
        }
        // Before recovery, which may cancel jobs: their webhooks go out too.
        let webhooks = configuration.webhooks.isEnabled
            ? WebhookDispatcher(configuration: configuration.webhooks, database: store, logger: logger) : nil
        if let webhooks { store.jobFinished.withLockedValue { $0 = { webhooks.notify($0) } } }
        self.webhooks = webhooks
        let decodeLimits = DecodeLimits(maxEncodedBytes: DecodeLimits.default.maxEncodedBytes,
                                        maxPixelCount: configuration.limits.maxImagePixels)
        let blobs = FolderBlobStore(root: layout.blobs)
        let datasetCache = DatasetCache(layout: layout, blobs: blobs, decodeLimits: decodeLimits)
        let importer = DatasetImporter(database: store, blobs: blobs, cache: datasetCache, configuration: configuration)
        try DatasetImporter.clearUploads(layout: layout)
        datasetCache.sweep(keeping: [], includingStaging: true, unreferenced: false)
        if let sqlite {
            // One machine: whatever the last process left unfinished is this process's to repair.
            try DatasetImporter.removeIncompleteDatasets(layout: layout, database: sqlite)
            try JobRecovery.recover(database: sqlite, layout: layout, logger: logger)
            try JobRecovery.removeOrphanBatchFolders(database: sqlite, layout: layout)
        }

        let cache = EncoderCache(modelsDirectory: layout.modelsDirectory)
        let cancellations = CancellationRequests()
        let signal = WakeSignal()
        let runner = JobRunner(layout: layout, datasets: datasetCache, loadEncoder: loadEncoder ?? { try await cache.load($0) },
                               cancellations: cancellations, metrics: metrics, decodeLimits: decodeLimits, files: jobFiles,
                               logger: logger)
        let zipLimits = ZipLimits(maximumEntryCount: ZipLimits.default.maximumEntryCount,
                                  maximumTotalUncompressedBytes: UInt64(configuration.datasetMaxInflatedBytes),
                                  maximumCompressionRatio: ZipLimits.default.maximumCompressionRatio)
        let batchRunner = BatchRunner(layout: layout, datasets: datasetCache, tagging: tagging, cancellations: cancellations,
                                      decodeLimits: decodeLimits, zipLimits: zipLimits, logger: logger)
        self.layout = layout
        self.store = store
        self.signal = signal
        housekeeping = Housekeeping(store: store, blobs: blobs, cache: datasetCache, intervalSeconds: cluster.housekeepingSeconds,
                                    eventRetentionDays: cluster.eventRetentionDays, logger: logger)
        self.cancellations = cancellations
        self.replica = replica
        worker = JobWorker(store: store, runner: runner, batches: batchRunner, signal: signal, cancellations: cancellations,
                           concurrency: configuration.jobsConcurrency, replica: replica, settings: cluster.leaseSettings,
                           metrics: metrics, logger: logger)
        batches = BatchesController(layout: layout, database: store, signal: signal, cancellations: cancellations, tagging: tagging,
                                    maximumUploadBytes: configuration.datasetMaxUploadBytes, zipLimits: zipLimits)
        datasets = DatasetsController(layout: layout, database: store, importer: importer,
                                      maximumUploadBytes: configuration.datasetMaxUploadBytes)
        jobs = JobsController(layout: layout, database: store, signal: signal, cancellations: cancellations)
    }

    /// Adds `/v1/datasets…`, `/v1/tuning/jobs…` and `/v1/batches…` to the router.
    func register(on router: TableRouter) {
        datasets.register(on: router)
        jobs.register(on: router)
        batches.register(on: router)
    }
}
