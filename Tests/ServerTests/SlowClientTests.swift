import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// Slow and unfinished requests over real sockets (the probe of 2026-12): they must not hold
/// request slots or descriptors, and a refused body must not leave its client hanging.
@Suite("Slow clients", .serialized)
struct SlowClientTests {
    static let trickledHead = "POST /v1/tag HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n"

    /// More trickling bodies than request slots: readiness and tagging still answer, because a
    /// request counts against `limits.max_concurrent_requests` only once its body is in.
    @Test func trickledBodiesHoldNoRequestSlot() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.limits.maxConcurrentRequests = 2
        let png = try TagFixtures.image("png_rgb.png")
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.live) { client in
            try await client.waitUntilReady()
            let port = try #require(client.port)
            let slow = try (0..<6).map { _ in try RawConnection(port: port) }
            for connection in slow { #expect(await connection.send(Self.trickledHead + "x")) }
            try await Self.waitUntilInFlight(slow.count, client: client)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/v1/models", method: .get).status == .ok)
            let tagged = try await client.tagRaw(png)
            #expect(tagged.status == .ok, "\(String(buffer: tagged.body))")
            // Used here so that they stay open until now (ARC may end an unused value early).
            for connection in slow { #expect(connection.fd >= 0) }
        }
    }

    /// Waits until the server has taken up the slow requests: /metrics counts them in flight (or,
    /// where they held every request slot, is itself refused).
    static func waitUntilInFlight(_ count: Int, client: some TestClientProtocol) async throws {
        var seen = ""
        for _ in 0..<400 {
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            if metrics.status == .tooManyRequests { return }
            let line = String(buffer: metrics.body).split(separator: "\n").first { $0.hasPrefix("tagtune_http_requests_in_flight ") }
            seen = line.map(String.init) ?? "(no in-flight gauge)"
            if let value = line?.split(separator: " ").last.flatMap({ Double($0) }), value > Double(count) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("the server never took up the \(count) slow requests: \(seen)")
    }

    /// A body slower than `server.min_body_bytes_per_second` after the grace period is cut off.
    @Test func trickledBodyIsCutOff() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.connections.minBodyBytesPerSecond = 1 << 20
        server.configuration.connections.bodyGraceSeconds = 0.2
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.live) { client in
            let connection = try RawConnection(port: try #require(client.port))
            await connection.send(Self.trickledHead + "0123456789")
            let (bytes, ending) = await connection.readToEnd()
            #expect(ending != .timedOut, "the connection was left open")
            #expect(!String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    /// A request head never finished is closed after `server.idle_timeout_seconds`.
    @Test func unfinishedHeadIsClosed() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.connections.idleTimeoutSeconds = 0.3
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.live) { client in
            let connection = try RawConnection(port: try #require(client.port))
            await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1")
            let (bytes, ending) = await connection.readToEnd()
            #expect(ending == .closed || ending == .reset, "the connection was left open")
            #expect(bytes.isEmpty, "nothing is answered to an unfinished head")
            // (The test client's own idle connection is closed by the same timeout: ask on a new one.)
            let next = try RawConnection(port: try #require(client.port))
            await next.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            #expect(String(decoding: await next.readToEnd().bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        }
    }

    /// An oversized body sent with `Connection: close` (as Python's urllib does) gets its 413, naming
    /// the configured limit, and the connection ends: the client is neither left writing nor waiting.
    @Test func oversizedBodyWithConnectionCloseIsAnsweredAndClosed() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.limits.maxBodyBytes = 65536
        let app = try buildApplication(configuration: server.configuration, logger: TagFixtures.logger)
        try await app.test(.live) { client in
            for declared in [true, false] {
                let connection = try RawConnection(port: try #require(client.port))
                let body = [UInt8](repeating: 7, count: 4 << 20)
                let length = declared ? "Content-Length: \(body.count)" : "Transfer-Encoding: chunked"
                await connection.send("POST /v1/tag HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/png\r\n\(length)\r\nConnection: close\r\n\r\n")
                if declared {
                    await connection.send(body)
                } else {
                    await connection.send(Array(String(body.count, radix: 16).utf8) + Array("\r\n".utf8) + body + Array("\r\n0\r\n\r\n".utf8))
                }
                let (bytes, ending) = await connection.readToEnd()
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(ending != .timedOut, "declared \(declared): the client was left hanging")
                #expect(text.hasPrefix("HTTP/1.1 413"), "declared \(declared): \(text.prefix(300))")
                #expect(text.contains("65536 bytes (limits.max_body_bytes)"))
                #expect(!text.contains("NIO"), "no internal type names")
            }
        }
    }
}
