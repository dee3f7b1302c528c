import Foundation
import Hummingbird
import HummingbirdCore
import Imaging
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// What tests (and `tagtune serve`) may give the application instead of what it builds from the
/// configuration; by default everything is built there.
public struct AppDependencies: Sendable {
    /// Where datasets and tuning jobs come from.
    public enum Tuning: Sendable {
        /// Built from the configuration (database, recovery, worker), loading encoders through the
        /// application's model registry; on a full disk the application serves tagging and the
        /// datasets and jobs routes answer 507.
        case fromConfiguration
        /// Built by the caller (tests that hold on to its database).
        case given(TuningBackend)
        /// Tagging only; with an error, the datasets and jobs routes answer it instead of 404.
        case none(APIError?)
    }

    public var readiness: Readiness
    public var registry: PrometheusCollectorRegistry
    /// Watches the inference batcher (tests: batch sizes, holding a batch to fill the queue).
    public var inferenceObserver: (any InferenceObserver)?
    public var tuning: Tuning
    /// A model registry built outside (tests that share one with their own tuning backend).
    public var models: ModelRegistry?
    /// What SIGTERM does before the services stop (not ready, jobs handed back).
    public var shutdown = ShutdownDrain()

    public init(readiness: Readiness = Readiness(), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                inferenceObserver: (any InferenceObserver)? = nil, tuning: Tuning = .fromConfiguration,
                models: ModelRegistry? = nil) {
        self.readiness = readiness
        self.registry = registry
        self.inferenceObserver = inferenceObserver
        self.tuning = tuning
        self.models = models
    }
}

/// The parts of one application, built once and shared by the routes and the services: one model
/// registry for tagging and tuning, so an encoder is loaded once.
struct AppComponents: Sendable {
    let models: ModelRegistry
    let batcher: InferenceBatcher
    let tagger: Tagger
    let embedder: Embedder
    let tuning: TuningBackend?
    /// With PostgreSQL: the prompt-set sync and this replica's LISTEN connection.
    let sync: PromptSetSync?
    let listener: PostgresListener?
    /// Why the datasets and jobs routes are not served, when `tuning` is nil for a reason.
    let tuningUnavailable: APIError?

    init(configuration: ServerConfiguration, dependencies: AppDependencies, logger: Logger) throws {
        let models = dependencies.models ?? ModelRegistry(
            configuration: configuration.registry, dataDirectory: configuration.dataDirectory,
            metricsFactory: PrometheusMetricsFactory.tagtune(dependencies.registry, replica: configuration.cluster.metricsReplica), logger: logger)
        self.models = models
        batcher = InferenceBatcher(configuration: configuration.batching, metrics: InferenceMetrics(factory: .tagtune(dependencies.registry, replica: configuration.cluster.metricsReplica)),
                                   observer: dependencies.inferenceObserver)
        let decodeLimits = DecodeLimits(maxEncodedBytes: configuration.limits.maxBodyBytes, maxPixelCount: configuration.limits.maxImagePixels)
        tagger = Tagger(registry: models, batcher: batcher, zeroShot: ZeroShotFeatureCache(), decodeLimits: decodeLimits)
        embedder = Embedder(registry: models, batcher: batcher, decodeLimits: decodeLimits)
        switch dependencies.tuning {
        case .given(let backend):
            (tuning, tuningUnavailable) = (backend, nil)
        case .none(let error):
            (tuning, tuningUnavailable) = (nil, error)
        case .fromConfiguration:
            // Opens the database, repairs what a crash left, re-queues running jobs. On a full disk
            // it cannot be opened for writing; tagging needs no disk, so it is served anyway.
            do {
                tuning = try TuningBackend(
                    configuration: configuration, metricsFactory: PrometheusMetricsFactory.tagtune(dependencies.registry, replica: configuration.cluster.metricsReplica),
                    logger: logger, loadEncoder: { try await models.encoder(named: $0).model })
                tuningUnavailable = nil
            } catch where OutOfSpace.matches(error) {
                logger.critical("out of disk space: serving tagging only, datasets and tuning jobs answer 507 until restarted with space",
                                metadata: ["error": "\(error)"])
                (tuning, tuningUnavailable) = (nil, OutOfSpace.apiError)
            }
        }
        tuning?.tagging.connect(tagger)
        if let tuning, let postgres = tuning.postgres, let url = configuration.cluster.databaseURL {
            // Replicas: prompt sets and defaults live in the database; this replica mirrors them.
            models.catalogLink.connect(postgres)
            let sync = PromptSetSync(catalog: postgres, registry: models, sweepSeconds: configuration.cluster.promptSetSweepSeconds,
                                     logger: logger)
            self.sync = sync
            listener = PostgresListener(
                url: try PostgresURL(url), replica: tuning.replica,
                handlers: .init(jobQueued: { _ in tuning.signal.ring() },
                                cancelRequested: { tuning.cancellations.request($0) },
                                promptSetChanged: { _ in sync.wake() },
                                caughtUp: { tuning.signal.ring(); sync.wake() }),
                metricsFactory: PrometheusMetricsFactory.tagtune(dependencies.registry, replica: configuration.cluster.metricsReplica), logger: logger)
        } else {
            (sync, listener) = (nil, nil)
        }
    }
}

/// Builds the whole application from its configuration — registry, batcher, tagging, datasets
/// and tuning jobs, routes and services: the same function serves `tagtune serve` and the tests,
/// which replace parts through `dependencies`.
public func buildApplication(
    configuration: ServerConfiguration,
    dependencies: AppDependencies = AppDependencies(),
    logger: Logger = Logger(label: "tagtune")
) throws -> some ApplicationProtocol {
    var configuration = configuration
    // One name for this process everywhere (leases, events, metrics), chosen once when not configured.
    if configuration.cluster.replicaID == nil { configuration.cluster.replicaID = configuration.cluster.resolvedReplicaID }
    let inference = try AppComponents(configuration: configuration, dependencies: dependencies, logger: logger)
    let router = buildRouter(configuration: configuration, dependencies: dependencies, inference: inference, logger: logger)
    for (path, name) in [(configuration.dataDirectory, "data_dir"), (configuration.modelsDirectory, "models.dir"),
                         (configuration.promptSetsDirectory, "prompt_sets.dir"), (configuration.publicDirectory, "server.public_dir"),
                         (FileManager.default.currentDirectoryPath, ".")] {
        ServerPathRedaction.register(path, as: name)
    }
    // Ready once the default model and prompt set are loaded and warm (DefaultModelWarmUp), not when listening.
    var warmUp = DefaultModelWarmUp(registry: inference.models, batcher: inference.batcher,
                                    readiness: dependencies.readiness, logger: logger)
    if let sync = inference.sync {
        warmUp.prerequisite = {
            try await sync.firstSync.wait(timeout: .seconds(5), timeoutError: StoreUnavailable(reason: "the prompt sets are not synced from the database yet"))
        }
    }
    ConnectionBudget.raiseDescriptorLimit()
    // The store first: services stop in reverse order, so it closes after the worker has handed its jobs back.
    var services: [any Service] = []
    if let postgres = inference.tuning?.postgres { services.append(postgres) }
    if let gauges = inference.tuning?.clusterGauges { services.append(gauges) }
    if let listener = inference.listener { services.append(listener) }
    if let sync = inference.sync { services.append(sync) }
    services += [inference.batcher, warmUp]
    if configuration.cluster.role.runsJobs, let worker = inference.tuning?.worker {
        services.append(worker)
        dependencies.shutdown.add { await worker.handBack(timeout: .seconds(30)) }
    }
    if let webhooks = inference.tuning?.webhooks { services.append(webhooks) }
    if let housekeeping = inference.tuning?.housekeeping { services.append(housekeeping) }
    return Application(
        router: router,
        server: httpServer(configuration.connections, logger: logger),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tagtune",
                             availableConnectionsDelegate: MaximumAvailableConnections(ConnectionBudget.maxConnections, logger: logger)),
        services: services,
        onServerRunning: { channel in
            logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        },
        logger: logger)
}

/// HTTP/1.1 with the slow-client limits in the channel pipeline: Hummingbird's idle timeout closes
/// a connection that does not finish its request head (or idles between requests), BodyRateGuard
/// one that trickles its body, and CloseAfterRefusal ends one whose body was refused unread.
func httpServer(_ limits: ServerConfiguration.ConnectionLimits, logger: Logger) -> HTTPServerBuilder {
    .http1(configuration: .init(
        additionalChannelHandlers: [
            CloseAfterRefusal(),
            BodyRateGuard(minBytesPerSecond: limits.minBodyBytesPerSecond,
                          grace: .nanoseconds(Int64(limits.bodyGraceSeconds * 1e9)), logger: logger),
        ],
        idleTimeout: .nanoseconds(Int64(limits.idleTimeoutSeconds * 1e9))))
}

/// The router with its middleware stack, outermost first:
/// request id and access log → metrics → error shape → API keys → load shedding → timeout → security headers
/// → static files → routes.
public func buildRouter(
    configuration: ServerConfiguration,
    dependencies: AppDependencies,
    logger: Logger
) throws -> Router<TagTuneRequestContext> {
    buildRouter(configuration: configuration, dependencies: dependencies,
                inference: try AppComponents(configuration: configuration, dependencies: dependencies, logger: logger),
                logger: logger)
}

/// The same, sharing `inference` with the application's services.
func buildRouter(
    configuration: ServerConfiguration,
    dependencies: AppDependencies,
    inference: AppComponents,
    routes: RouteTable = RouteTable(),
    logger: Logger
) -> Router<TagTuneRequestContext> {
    let router = Router(context: TagTuneRequestContext.self)
    let metrics = HTTPMetrics(factory: PrometheusMetricsFactory.tagtune(dependencies.registry, replica: configuration.cluster.metricsReplica))
    router.add(middleware: RequestIDMiddleware(maxBodyBytes: configuration.limits.maxBodyBytes))
    router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware(routes: routes))
    router.add(middleware: APIKeyMiddleware(keys: APIKeySet(configuration.auth.apiKeys), routes: routes))
    router.add(middleware: ConcurrencyLimitMiddleware(limit: configuration.limits.maxConcurrentRequests, streamsBody: { request in
        request.method == .post && RouteTable.segments(of: request.uri.path) == ["v1", "datasets"]
    }))
    router.add(middleware: RequestTimeoutMiddleware(timeout: .milliseconds(Int64(configuration.limits.requestTimeoutSeconds * 1000))))
    if inference.tuning == nil, let error = inference.tuningUnavailable {
        router.add(middleware: UnavailableRoutesMiddleware(prefixes: [["v1", "datasets"], ["v1", "tuning"]], error: error))
    }
    StaticFiles.add(to: router, configuration: configuration, logger: logger)
    // Routes come after the middleware: Hummingbird applies middleware to the routes added after it.
    // Each controller adds its routes once, to the router and the route table together.
    let table = TableRouter(router: router, table: routes)
    let models = inference.models
    var storeProblem: (@Sendable () -> String?)? = nil
    if let postgres = inference.tuning?.postgres {
        storeProblem = { postgres.isReady ? nil : "the database is not migrated and open yet" }
    }
    OperationsController(configuration: configuration, readiness: dependencies.readiness, registry: dependencies.registry,
                         defaultModel: { await models.defaultModelInfo() }, storeProblem: storeProblem)
        .register(on: table)
    // A worker replica trains and answers its operators (health, readiness, metrics, info), nothing else.
    guard configuration.cluster.role.servesAPI else { return router }
    ModelsController(registry: inference.models).register(on: table)
    PromptSetsController(registry: inference.models).register(on: table)
    TagController(tagger: inference.tagger, reader: TagRequestReader(maxImages: configuration.limits.maxImagesPerRequest))
        .register(on: table)
    EmbeddingsController(embedder: inference.embedder, reader: EmbeddingsRequestReader(maxImages: configuration.limits.maxImagesPerRequest))
        .register(on: table)
    inference.tuning?.register(on: table)
    OpenAPIController(keysConfigured: configuration.auth.isEnabled).register(on: table)
    return router
}
