import Foundation
import Hummingbird
import HummingbirdCore
import Imaging
import Logging
import Metrics
import NIOCore
import Prometheus

/// Everything the application needs from outside: built in `main`, or in memory by tests.
public struct AppDependencies: Sendable {
    public var readiness: Readiness
    public var registry: PrometheusCollectorRegistry
    /// Watches the inference batcher (tests: batch sizes, holding a batch to fill the queue).
    public var inferenceObserver: (any InferenceObserver)?
    /// Datasets and tuning jobs (routes and the job worker); nil serves without them.
    public var tuning: TuningBackend?
    /// The model registry, when built outside so that the job worker shares its loaded encoders;
    /// nil builds one from the configuration.
    public var models: ModelRegistry?
    /// Why the datasets and jobs routes cannot be served (no `tuning` because the disk is full):
    /// they answer this error instead of 404.
    public var tuningUnavailable: APIError?

    public init(readiness: Readiness = Readiness(), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                inferenceObserver: (any InferenceObserver)? = nil, tuning: TuningBackend? = nil,
                models: ModelRegistry? = nil, tuningUnavailable: APIError? = nil) {
        self.tuningUnavailable = tuningUnavailable
        self.readiness = readiness
        self.registry = registry
        self.inferenceObserver = inferenceObserver
        self.tuning = tuning
        self.models = models
    }
}

/// The model registry, batcher and tagger of one application, built once and shared by the
/// routes and the services.
struct InferenceComponents: Sendable {
    let models: ModelRegistry
    let batcher: InferenceBatcher
    let tagger: Tagger

    init(configuration: ServerConfiguration, dependencies: AppDependencies, logger: Logger) {
        models = dependencies.models ?? ModelRegistry(
            configuration: configuration.registry, dataDirectory: configuration.dataDirectory,
            metricsFactory: PrometheusMetricsFactory(registry: dependencies.registry), logger: logger)
        batcher = InferenceBatcher(configuration: configuration.batching, metrics: InferenceMetrics(registry: dependencies.registry),
                                   observer: dependencies.inferenceObserver)
        tagger = Tagger(registry: models, batcher: batcher, zeroShot: ZeroShotFeatureCache(),
                        decodeLimits: DecodeLimits(maxEncodedBytes: configuration.limits.maxBodyBytes,
                                                   maxPixelCount: configuration.limits.maxImagePixels))
    }
}

/// Builds the HTTP application: the same function serves `tagtune serve` and the tests.
public func buildApplication(
    configuration: ServerConfiguration,
    dependencies: AppDependencies = AppDependencies(),
    logger: Logger = Logger(label: "tagtune")
) -> some ApplicationProtocol {
    let inference = InferenceComponents(configuration: configuration, dependencies: dependencies, logger: logger)
    let router = buildRouter(configuration: configuration, dependencies: dependencies, inference: inference, logger: logger)
    for (path, name) in [(configuration.dataDirectory, "data_dir"), (configuration.modelsDirectory, "models.dir"),
                         (configuration.promptSetsDirectory, "prompt_sets.dir"), (configuration.publicDirectory, "server.public_dir"),
                         (FileManager.default.currentDirectoryPath, ".")] {
        ServerPathRedaction.register(path, as: name)
    }
    // Ready once the default model and prompt set are loaded and warm (DefaultModelWarmUp), not when listening.
    let warmUp = DefaultModelWarmUp(registry: inference.models, batcher: inference.batcher,
                                    readiness: dependencies.readiness, logger: logger)
    ConnectionBudget.raiseDescriptorLimit()
    return Application(
        router: router,
        server: httpServer(configuration.connections, logger: logger),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tagtune",
                             availableConnectionsDelegate: MaximumAvailableConnections(ConnectionBudget.maxConnections, logger: logger)),
        services: [inference.batcher, warmUp] + (dependencies.tuning.map { [$0.worker] } ?? []),
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
) -> Router<TagTuneRequestContext> {
    buildRouter(configuration: configuration, dependencies: dependencies,
                inference: InferenceComponents(configuration: configuration, dependencies: dependencies, logger: logger),
                logger: logger)
}

/// The same, sharing `inference` with the application's services.
func buildRouter(
    configuration: ServerConfiguration,
    dependencies: AppDependencies,
    inference: InferenceComponents,
    routes: RouteTable = RouteTable(),
    logger: Logger
) -> Router<TagTuneRequestContext> {
    let router = Router(context: TagTuneRequestContext.self)
    let metrics = HTTPMetrics(factory: PrometheusMetricsFactory(registry: dependencies.registry))
    router.add(middleware: RequestIDMiddleware(maxBodyBytes: configuration.limits.maxBodyBytes))
    router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware(routes: routes))
    router.add(middleware: APIKeyMiddleware(keys: APIKeySet(configuration.auth.apiKeys), routes: routes))
    router.add(middleware: ConcurrencyLimitMiddleware(limit: configuration.limits.maxConcurrentRequests, streamsBody: { request in
        request.method == .post && RouteTable.segments(of: request.uri.path) == ["v1", "datasets"]
    }))
    router.add(middleware: RequestTimeoutMiddleware(timeout: .milliseconds(Int64(configuration.limits.requestTimeoutSeconds * 1000))))
    if dependencies.tuning == nil, let error = dependencies.tuningUnavailable {
        router.add(middleware: UnavailableRoutesMiddleware(prefixes: [["v1", "datasets"], ["v1", "tuning"]], error: error))
    }
    StaticFiles.add(to: router, configuration: configuration, logger: logger)
    // Routes come after the middleware: Hummingbird applies middleware to the routes added after it.
    let models = inference.models
    OperationsController(configuration: configuration, readiness: dependencies.readiness, registry: dependencies.registry,
                         defaultModel: { await models.defaultModelInfo() })
        .register(on: router, routes: routes)
    ModelsController(registry: inference.models).register(on: router, routes: routes)
    PromptSetsController(registry: inference.models).register(on: router, routes: routes)
    TagController(tagger: inference.tagger, reader: TagRequestReader(maxImages: configuration.limits.maxImagesPerRequest))
        .register(on: router, routes: routes)
    dependencies.tuning?.register(on: router, routes: routes)
    OpenAPIController(keysConfigured: configuration.auth.isEnabled).register(on: router, routes: routes)
    return router
}
