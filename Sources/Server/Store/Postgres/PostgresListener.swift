import Foundation
import Logging
import Metrics
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// This replica's LISTEN connection: wake-ups for idle workers (`tagtune_jobs`), cancels for the
/// jobs it owns (`tagtune_job_control`) and prompt-set changes (`tagtune_prompt_sets`).
///
/// LISTEN belongs to a session, so it runs on a dedicated connection, not the pool's, named
/// `tagtune-listener-<replica>` in `pg_stat_activity`. A lost connection is opened again with
/// back-off; after each (re)connect `caughtUp` runs once the channels are listened to, so what was
/// announced while it was away is read from the tables. A notification is a wake-up, never the
/// record: the claim poll, the heartbeat's cancel flag and the prompt-set sweep stand behind it.
final class PostgresListener: Service, Sendable {
    struct Handlers: Sendable {
        var jobQueued: @Sendable (String) -> Void
        var cancelRequested: @Sendable (String) -> Void
        var promptSetChanged: @Sendable (String) -> Void
        /// After every (re)connect, the channels listened to: catch up on what may have been missed.
        var caughtUp: @Sendable () -> Void
    }

    let url: PostgresURL
    let replica: String
    let handlers: Handlers
    let reconnects: Counter
    let logger: Logger

    init(url: PostgresURL, replica: String, handlers: Handlers, metricsFactory: any MetricsFactory, logger: Logger) {
        self.url = url
        self.replica = replica
        self.handlers = handlers
        reconnects = Counter(label: "tagtune_listener_reconnects_total", dimensions: [], factory: metricsFactory)
        self.logger = logger
    }

    var applicationName: String { "tagtune-listener-\(replica)" }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var delay = Duration.milliseconds(100)
            var connections = 0
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(
                        configuration: self.url.connectionConfiguration, id: connections, logger: self.logger)
                    connections += 1
                    if connections > 1 {
                        self.reconnects.increment()
                        self.logger.notice("listening to the database again")
                    }
                    delay = .milliseconds(100)
                    try await self.listen(on: connection)
                } catch where !Task.isCancelled {
                    self.logger.warning("the database listener lost its connection; reconnecting",
                                        metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    /// Listens until the connection ends (then throws) or the task is cancelled; closes it either way.
    private func listen(on connection: PostgresConnection) async throws {
        do {
            try await connection.query("SELECT set_config('application_name', \(applicationName), false)", logger: logger)
            try await connection.listen(on: PostgresStore.jobsChannel) { jobs in
                try await connection.listen(on: PostgresStore.jobControlChannel) { control in
                    try await connection.listen(on: PostgresStore.promptSetsChannel) { promptSets in
                        handlers.caughtUp()
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask { for try await n in jobs { self.handlers.jobQueued(n.payload) } }
                            group.addTask { for try await n in control { self.handlers.cancelRequested(n.payload) } }
                            group.addTask { for try await n in promptSets { self.handlers.promptSetChanged(n.payload) } }
                            // A sequence ends or throws when the connection does.
                            try await group.next()
                            throw ListenerEnded()
                        }
                    }
                }
            }
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private struct ListenerEnded: Error, CustomStringConvertible {
        var description: String { "the notification stream ended" }
    }
}

extension PostgresURL {
    /// postgres-nio's settings for one dedicated connection to this URL.
    var connectionConfiguration: PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketFolder {
            configuration = .init(unixSocketPath: socketFolder + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: user, password: password, database: database,
                                  tls: requireTLS ? .require(try! .init(configuration: .makeClientConfiguration())) : .disable)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}
