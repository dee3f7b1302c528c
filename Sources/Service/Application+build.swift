import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

/// Everything the application needs from outside: built in `main`, or in memory by tests.
public struct AppDependencies: Sendable {
    public var readiness: Readiness
    public var registry: PrometheusCollectorRegistry
    /// Datasets and tuning jobs (routes and the job worker); nil serves without them.
    public var tuning: TuningBackend?

    public init(readiness: Readiness = Readiness(), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                tuning: TuningBackend? = nil) {
        self.readiness = readiness
        self.registry = registry
        self.tuning = tuning
    }
}

/// Builds the HTTP application: the same function serves `tagtune serve` and the tests.
public func buildApplication(
    configuration: ServerConfiguration,
    dependencies: AppDependencies = AppDependencies(),
    logger: Logger = Logger(label: "tagtune")
) -> some ApplicationProtocol {
    let router = buildRouter(configuration: configuration, dependencies: dependencies, logger: logger)
    let readiness = dependencies.readiness
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tagtune"),
        services: dependencies.tuning.map { [$0.worker] } ?? [],
        onServerRunning: { channel in
            logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            // Nothing to load yet: the server is ready as soon as it listens.
            readiness.markReady()
        },
        logger: logger)
}

/// The router with its middleware stack, outermost first:
/// request id and access log → metrics → error shape → load shedding → timeout → static files → routes.
public func buildRouter(
    configuration: ServerConfiguration,
    dependencies: AppDependencies,
    logger: Logger
) -> Router<TagTuneRequestContext> {
    let router = Router(context: TagTuneRequestContext.self)
    let routes = RouteTable()
    let metrics = HTTPMetrics(factory: PrometheusMetricsFactory(registry: dependencies.registry))
    router.add(middleware: RequestIDMiddleware(maxBodyBytes: configuration.limits.maxBodyBytes))
    router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware(routes: routes))
    router.add(middleware: ConcurrencyLimitMiddleware(limit: configuration.limits.maxConcurrentRequests))
    router.add(middleware: RequestTimeoutMiddleware(timeout: .milliseconds(Int64(configuration.limits.requestTimeoutSeconds * 1000))))
    if FileManager.default.fileExists(atPath: configuration.publicDirectory) {
        router.add(middleware: FileMiddleware(
            configuration.publicDirectory,
            cacheControl: .init([(MediaType(type: .any), [.noCache])]),
            searchForIndexHtml: true,
            logger: logger))
    } else {
        logger.warning("no static folder", metadata: ["public_dir": "\(configuration.publicDirectory)"])
    }
    // Routes come after the middleware: Hummingbird applies middleware to the routes added after it.
    OperationsController(configuration: configuration, readiness: dependencies.readiness, registry: dependencies.registry)
        .register(on: router, routes: routes)
    dependencies.tuning?.register(on: router, routes: routes)
    return router
}
