import Foundation
import Logging
import Testing
@testable import Server

/// The two stores the contract suite runs against.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// A fresh, empty store of this kind, open (PostgreSQL: its service running, migrated) while `body` runs.
    /// `statusCounts` gets the job counts: from SQLite on every change; from PostgreSQL through the
    /// cluster-gauge publisher, every 50 ms.
    func withStore<T>(statusCounts: @escaping @Sendable (JobCounts) -> Void = { _ in },
                      _ body: (any TuningStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let folder = try TemporaryFolder()
            let store = try SQLiteStore(url: folder.url.appendingPathComponent("t.sqlite"), jobStatusCounts: statusCounts)
            defer { withExtendedLifetime(folder) {} }
            return try await body(store)
        case .postgres:
            let url = try await TestPostgres.shared.freshDatabase()
            return try await TestPostgres.withRunning(PostgresStore(url: url, logger: Logger(label: "test"), startTimeout: .seconds(60))) {
                let gauges = PostgresClusterGauges(url: url, replica: "test", interval: .milliseconds(50), logger: Logger(label: "test"),
                                                   publish: { if let counts = $0 { statusCounts(counts) } })
                let publisher = Task { try await gauges.run() }
                defer { publisher.cancel() }
                return try await body($0)
            }
        }
    }
}

/// The PostgreSQL server for the tests, named by `TAGTUNE_TEST_POSTGRES_URL` (make test starts a
/// throw-away one with scripts/cluster/pg.sh). Each test gets its own database on it. Without it the
/// tests that need it fail, saying how to start one: they are part of the contract, not optional.
/// (Starting it from here hung: Foundation's Process never saw pg.sh end once the server it started
/// had inherited its descriptors.)
actor TestPostgres {
    static let shared = TestPostgres()
    private var server: PostgresURL?
    private var counter = 0

    private func serverURL() throws -> PostgresURL {
        if let server { return server }
        guard let given = ProcessInfo.processInfo.environment["TAGTUNE_TEST_POSTGRES_URL"], !given.isEmpty else {
            throw TestPostgresError(description: """
                TAGTUNE_TEST_POSTGRES_URL is not set: the store's contract runs on PostgreSQL too. make test starts one; \
                by hand: scripts/cluster/pg.sh up /tmp/pg (prints the URL; PostgreSQL 15: apt-get install postgresql-15)
                """)
        }
        let parsed = try PostgresURL(given)
        server = parsed
        return parsed
    }

    /// An empty database of its own on the test server.
    func freshDatabase() throws -> PostgresURL {
        var url = try serverURL()
        counter += 1
        let name = "t_\(ProcessInfo.processInfo.processIdentifier)_\(counter)_\(UInt32.random(in: 0...UInt32.max))"
        _ = try Self.run("/usr/bin/env", ["psql", "-h", url.host, "-p", String(url.port), "-U", url.user, "-d", url.database,
                                          "-v", "ON_ERROR_STOP=1", "-qAtc", "CREATE DATABASE \(name)"])
        url.database = name
        return url
    }

    /// Runs `store`'s service while `body` runs, then stops it.
    static func withRunning<T>(_ store: PostgresStore, _ body: (PostgresStore) async throws -> T) async throws -> T {
        let service = Task { try await store.run() }
        defer { service.cancel() }
        try await store.opened()
        return try await body(store)
    }

    /// Runs a command to its end (psql); its output, through files.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("out"), errURL = folder.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        let text = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let problems = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw TestPostgresError(description: """
                \(executable) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(problems) \
                — is TAGTUNE_TEST_POSTGRES_URL's server running?
                """)
        }
        return text
    }
}

struct TestPostgresError: Error, CustomStringConvertible {
    var description: String
}
