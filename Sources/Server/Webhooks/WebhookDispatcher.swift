import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Tells the operator's endpoints when a tuning job or a batch finishes (`tuning.job.succeeded`,
/// `batch.failed`, …): one signed POST per endpoint, retried with exponential back-off on any
/// answer but 2xx or on no answer, every attempt written to the job's events. Deliveries run on
/// their own tasks, so a slow or dead endpoint never holds a job or the worker. Redirects are not
/// followed: the server only ever requests the configured URLs.
/// Pending retries live in memory: a restart drops them (the job's events say how far each got).
final class WebhookDispatcher: Service, Sendable {
    let configuration: WebhookConfiguration
    let database: any TuningStore
    let logger: Logger
    private let client: HTTPClient
    private let pending = NIOLockedValueBox<[UUID: Task<Void, Never>]>([:])
    /// Ten minutes: the longest wait between two attempts.
    static let maximumBackoff = 600.0

    init(configuration: WebhookConfiguration, database: any TuningStore, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.logger = logger
        var http = HTTPClient.Configuration()
        http.redirectConfiguration = .disallow
        http.timeout = .init(connect: .seconds(Int64(max(1, configuration.timeoutSeconds))))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    /// The event's type: `tuning.job.<status>` or `batch.<status>`.
    static func eventType(_ job: JobRecord) -> String {
        (job.kind == .batch ? "batch." : "tuning.job.") + job.status.rawValue
    }

    /// `{"type", "timestamp", "data": <the job or batch as GET answers it>}`.
    static func payload(_ job: JobRecord, at date: Date = Date()) throws -> [UInt8] {
        struct Envelope<Object: Encodable>: Encodable {
            let type: String
            let timestamp: String
            let data: Object
        }
        let timestamp = ISO8601DateFormatter().string(from: date)
        let encoder = JSONEncoder.sortedKeys
        switch job.kind {
        case .batch: return [UInt8](try encoder.encode(Envelope(type: eventType(job), timestamp: timestamp, data: try BatchObject(job))))
        case .tuning: return [UInt8](try encoder.encode(Envelope(type: eventType(job), timestamp: timestamp, data: try JobObject(job))))
        }
    }

    /// Starts the deliveries of a finished job's event; returns at once.
    func notify(_ job: JobRecord) {
        guard job.status.isFinished else { return }
        let body: [UInt8]
        do { body = try Self.payload(job) } catch {
            logger.error("cannot encode a webhook payload", metadata: ["job": .string(job.id), "error": "\(error)"])
            return
        }
        let type = Self.eventType(job)
        for endpoint in configuration.endpoints {
            let key = UUID()
            // The id stays the same over the retries of one delivery: receivers de-duplicate on it.
            let id = "msg_" + ResourceID.make("").prefix(24)
            let task = Task { [self] in
                await deliver(body, id: id, type: type, to: endpoint, jobID: job.id)
                _ = pending.withLockedValue { $0.removeValue(forKey: key) }
            }
            pending.withLockedValue { $0[key] = task }
        }
    }

    private func deliver(_ body: [UInt8], id: String, type: String, to endpoint: String, jobID: String) async {
        let attempts = configuration.maxAttempts
        for attempt in 1...attempts {
            let outcome = await send(body, id: id, to: endpoint)
            if case .delivered(let status) = outcome {
                await record("webhook \(type) delivered to \(endpoint): HTTP \(status) (attempt \(attempt)/\(attempts), \(id))", jobID: jobID)
                return
            }
            guard attempt < attempts else {
                await record("webhook \(type) to \(endpoint) gave up after \(attempts) attempts: \(outcome) (\(id))", level: .error, jobID: jobID)
                return
            }
            let base = min(configuration.initialBackoffSeconds * pow(2, Double(attempt - 1)), Self.maximumBackoff)
            let wait = base * Double.random(in: 1...1.2)
            await record(String(format: "webhook %@ to %@ failed: %@ (attempt %d/%d, %@); next attempt in %.1f s",
                          type, endpoint, "\(outcome)", attempt, attempts, id, wait), level: .warn, jobID: jobID)
            do { try await Task.sleep(for: .seconds(wait)) } catch { return }   // shutdown
        }
    }

    enum Outcome: CustomStringConvertible {
        case delivered(Int)
        case refused(Int)
        case unreachable(String)
        var description: String {
            switch self {
            case .delivered(let status): "HTTP \(status)"
            case .refused(let status): "HTTP \(status)"
            case .unreachable(let reason): reason
            }
        }
    }

    private func send(_ body: [UInt8], id: String, to endpoint: String) async -> Outcome {
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "tagtune-webhooks")
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: WebhookSignature.sign(id: id, timestamp: timestamp, body: body, key: configuration.key))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(configuration.timeoutSeconds * 1000)))
            _ = try? await response.body.collect(upTo: 64 * 1024)   // read (and drop) what it says, keeping the connection usable
            let status = Int(response.status.code)
            return (200..<300).contains(status) ? .delivered(status) : .refused(status)
        } catch {
            return .unreachable("\(error)")
        }
    }

    private func record(_ message: String, level: NewJobEvent.Level = .info, jobID: String) async {
        do { try await database.appendEvent(.message(message, level: level), jobID: jobID) } catch {
            logger.error("cannot record a webhook attempt", metadata: ["job": .string(jobID), "error": "\(error)"])
        }
        if level != .info { logger.warning("\(message)") }
    }

    /// Waits for the shutdown, then stops pending retries and closes the client.
    func run() async throws {
        try? await gracefulShutdown()
        for task in pending.withLockedValue({ Array($0.values) }) { task.cancel() }
        for task in pending.withLockedValue({ Array($0.values) }) { await task.value }
        try await client.shutdown()
    }
}
