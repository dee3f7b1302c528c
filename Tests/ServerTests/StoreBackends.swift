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
    func withStore<T>(statusCounts: @escaping @Sendable ([JobStatus: Int]) -> Void = { _ in },
                      _ body: (any TuningStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let folder = try TemporaryFolder()
            let store = try SQLiteStore(url: folder.url.appendingPathComponent("t.sqlite"), jobStatusCounts: statusCounts)
            defer { withExtendedLifetime(folder) {} }
            return try await body(store)
        case .postgres:
            let url = try await TestPostgres.shared.freshDatabase()
            return try await TestPostgres.withRunning(PostgresStore(url: url, logger: Logger(label: "test"), jobStatusCounts: statusCounts)) {
                try await body($0)
            }
        }
    }
}

/// A PostgreSQL server for the tests: the one named by `TAGTUNE_TEST_POSTGRES_URL` (make test starts
/// one), or else one this process starts with scripts/cluster/pg.sh in a temporary folder and stops
/// at exit. Each test gets its own database on it. Without PostgreSQL's binaries the tests that need
/// it fail, saying how to install them: they are part of the contract, not optional.
actor TestPostgres {
    static let shared = TestPostgres()
    private var server: PostgresURL?
    private var counter = 0

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func serverURL() throws -> PostgresURL {
        if let server { return server }
        let url: String
        if let given = ProcessInfo.processInfo.environment["TAGTUNE_TEST_POSTGRES_URL"], !given.isEmpty {
            url = given
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-test-pg-\(ProcessInfo.processInfo.processIdentifier)")
            let output = try Self.run(Self.repositoryRoot.appendingPathComponent("scripts/cluster/pg.sh").path, ["up", folder.path])
            url = output.trimmingCharacters(in: .whitespacesAndNewlines)
            startedPostgresFolder = folder.path
            atexit {
                guard let folder = startedPostgresFolder else { return }
                _ = try? TestPostgres.run(TestPostgres.repositoryRoot.appendingPathComponent("scripts/cluster/pg.sh").path, ["down", folder])
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
        let parsed = try PostgresURL(url)
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

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestPostgresError(description: """
                \(executable) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(problems) \
                — PostgreSQL 15 is needed (Debian: apt-get install postgresql-15; make deps installs it)
                """)
        }
        return text
    }
}

/// The server this process started, stopped at exit (a C callback cannot capture it).
nonisolated(unsafe) private var startedPostgresFolder: String?

struct TestPostgresError: Error, CustomStringConvertible {
    var description: String
}
