import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The built `tagtune serve` binary as a child process on a free loopback port, with a small
/// HTTP client (URLSession) for the recovery tests.
final class RecoveryServerProcess: @unchecked Sendable {
    /// The `tagtune` binary built next to this test bundle.
    static let binary: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("tagtune").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("tagtune")
    }()

    let process = Process()
    let port: Int
    let base: URL

    /// Starts `tagtune serve` over `folder` (data, models and prompt-sets inside it) and waits until it answers.
    init(folder: URL, arguments: [String] = []) async throws {
        port = try Self.freePort()
        base = URL(string: "http://127.0.0.1:\(port)")!
        process.executableURL = Self.binary
        process.arguments = [
            "serve", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warning",
            "--data-dir", folder.appendingPathComponent("data").path,
            "--set", "models.dir=\(folder.appendingPathComponent("models").path)",
            "--set", "prompt_sets.dir=\(folder.appendingPathComponent("prompt-sets").path)",
        ] + arguments
        process.currentDirectoryURL = DatasetFixtures.repository
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TAGTUNE_") }
        let log = folder.appendingPathComponent("server-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            if let (status, _) = try? await request("GET", "/healthz"), status == 200 { break }
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            try #require(process.isRunning, "tagtune serve exited: \(output)")
            try #require(ContinuousClock.now < deadline, "tagtune serve does not answer: \(output)")
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Ends the process the hard way: no shutdown code runs.
    func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Freezes the process (SIGSTOP): nothing it does can change while the test looks.
    /// `kill` returns before the kernel has stopped every thread, so this waits until /proc shows
    /// them all stopped (a job thread still running could write its next checkpoint meanwhile).
    func pause() {
        let pid = process.processIdentifier
        kill(pid, SIGSTOP)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && !Self.everyThreadStopped(pid) { usleep(100) }
    }

    private static func everyThreadStopped(_ pid: Int32) -> Bool {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return false }
        return threads.allSatisfy { thread in
            // The state is the field after the parenthesised command name; a thread gone meanwhile counts as stopped.
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"), stat.distance(from: close, to: stat.endIndex) > 2 else { return true }
            return "tTZX".contains(stat[stat.index(close, offsetBy: 2)])
        }
    }

    /// Lets a frozen process go on (SIGCONT).
    func resume() { kill(process.processIdentifier, SIGCONT) }

    /// SIGTERM, then waits: a graceful shutdown. A server still running after 60 s is killed
    /// and reported as such (nil), so that a shutdown that hangs fails the test instead of the run.
    func stop() -> Int32? {
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        guard !process.isRunning else {
            killHard()
            return nil
        }
        return process.terminationStatus
    }

    /// Sends a request; returns the status and the body as JSON.
    func request(_ method: String, _ path: String, body: Data? = nil, contentType: String? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        request.httpBody = body
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as! HTTPURLResponse).statusCode, json)
    }

    func json(_ method: String, _ path: String, _ object: [String: Any]) async throws -> (Int, [String: Any]) {
        try await request(method, path, body: try JSONSerialization.data(withJSONObject: object), contentType: "application/json")
    }

    /// Polls a job (or, with `collection` "batches", a batch) until `done` holds.
    func waitForJob(_ id: String, collection: String = "tuning/jobs",
                    until done: ([String: Any]) -> Bool = { ["succeeded", "failed", "cancelled"].contains($0["status"] as? String) })
        async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(300)
        while true {
            let (status, job) = try await request("GET", "/v1/\(collection)/\(id)")
            try #require(status == 200, "\(job)")
            if done(job) { return job }
            try #require(ContinuousClock.now < deadline, "job \(id) is stuck: \(job)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Every event of a job (or batch), newest first, following the `after` cursor page by page.
    func allEvents(of id: String, collection: String = "tuning/jobs") async throws -> [[String: Any]] {
        var events: [[String: Any]] = []
        var after = ""
        while true {
            let (status, page) = try await request("GET", "/v1/\(collection)/\(id)/events?limit=100" + (after.isEmpty ? "" : "&after=\(after)"))
            try #require(status == 200, "\(page)")
            let data = page["data"] as? [[String: Any]] ?? []
            events += data
            guard page["has_more"] as? Bool == true, let last = data.last?["id"] as? String else { return events }
            after = last
        }
    }

    /// A port nothing listens on now: bound to port 0 and released.
    static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socketFD >= 0)
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
