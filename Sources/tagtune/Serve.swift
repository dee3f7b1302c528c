import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import Server
import ServiceLifecycle
import UnixSignals

/// `tagtune serve`: runs the HTTP server until SIGINT or SIGTERM, then shuts down gracefully.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP server.",
        discussion: """
            Settings come from (lowest to highest precedence) built-in defaults, the YAML file \
            (--config, $TAGTUNE_CONFIG, else config/tagtune.yaml when present), TAGTUNE_… environment \
            variables (server.port → TAGTUNE_SERVER_PORT), and these flags. `tagtune serve --print-config` \
            shows the result and where each value came from.
            """)

    @Option(help: "Configuration file (YAML or JSON).") var config: String?
    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "TCP port (0 picks a free one).") var port: Int?
    @Option(help: "Folder for the database, datasets and artifacts.") var dataDir: String?
    @Option(help: "Lowest log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?
    @Option(name: .customLong("set"), help: "Any configuration key, as key=value (repeatable).") var settings: [String] = []
    @Flag(help: "Print the resolved configuration and exit.") var printConfig = false
    @Flag(help: "Print the OpenAPI document this configuration serves at /openapi.json and exit.") var printOpenapi = false
    @Flag(help: "Print every configuration key as the Markdown table of docs/CONFIGURATION.md and exit.") var printConfigKeys = false

    func run() async throws {
        if printConfigKeys {
            print(ConfigurationKey.markdownTable)
            return
        }
        var flags: [String: String] = [:]
        for setting in settings {
            guard let equals = setting.firstIndex(of: "=") else {
                throw ValidationError("--set expects key=value, got '\(setting)'")
            }
            flags[String(setting[..<equals])] = String(setting[setting.index(after: equals)...])
        }
        if let host { flags["server.host"] = host }
        if let port { flags["server.port"] = String(port) }
        if let dataDir { flags["data_dir"] = dataDir }
        if let logLevel { flags["log.level"] = logLevel }

        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load(
                file: config, environment: ProcessInfo.processInfo.environment, flags: flags)
        } catch let error as ConfigurationError {
            throw ValidationError("configuration: \(error.description)")
        }
        if printConfig {
            for key in ConfigurationKey.all {
                print("\(key.path) = \(try configuration.displayValue(key.path))    # \(configuration.sources[key.path] ?? "default")")
            }
            return
        }
        if printOpenapi {
            print(OpenAPIDocument.served(keysConfigured: configuration.auth.isEnabled))
            return
        }

        LogFormat.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "tagtune")
        logger.logLevel = configuration.logLevel
        logger.info("starting", metadata: [
            "version": .string(BuildInfo.version), "build": .string(BuildInfo.configuration),
            "blas": .string(BuildInfo.blas),
        ])

        let dependencies = AppDependencies(registry: registry)
        let app = try buildApplication(configuration: configuration, dependencies: dependencies, logger: logger)
        // SIGTERM/SIGINT: first drain (not ready, running jobs handed back, at most 30 s) while
        // still answering, then the services' graceful shutdown.
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let signals = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                logger.notice("shutting down: not ready, handing running jobs back")
                await dependencies.shutdown.drain(dependencies.readiness)
                await group.triggerGracefulShutdown()
                return
            }
        }
        defer { signals.cancel() }
        try await group.run()
    }
}
