import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Prometheus
import Testing
@testable import Server

/// The operational routes and the error shape, in process and over a live socket.
@Suite("Operations routes")
struct OperationsRoutesTests {
    static func configuration(port: Int = 0) throws -> ServerConfiguration {
        var configuration = try ServerConfiguration.defaults
        configuration.port = port
        configuration.publicDirectory = publicDirectory
        // The application opens its tuning database here (not in the working directory's data/).
        configuration.dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tagtune-operations-\(UUID().uuidString)").path
        configuration.promptSetsDirectory = configuration.dataDirectory + "/prompt-sets"
        return configuration
    }

    static let publicDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Public").path

    struct ErrorBody: Decodable {
        struct Detail: Decodable { let message: String; let type: String; let code: String; let param: String? }
        let error: Detail
    }

    @Test func livenessAnswersOK() async throws {
        let app = try buildApplication(configuration: try Self.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                #expect(response.headers[.init("X-Request-ID")!] != nil)
            }
        }
    }

    @Test func readinessIs503UntilReady() async throws {
        let readiness = Readiness(ready: false, reason: "loading the default model")
        // No models folder: the warm-up keeps failing, so only the test makes the server ready
        // (with the bundled demo model it was ready within 0.1 s, sometimes before the first request).
        var configuration = try Self.configuration()
        configuration.modelsDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-no-models-\(UUID().uuidString)").path
        let app = try buildApplication(configuration: configuration, dependencies: AppDependencies(readiness: readiness))
        try await app.test(.router) { client in
            for path in ["/readyz", "/health"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                    #expect(body.error.code == "not_ready")
                    #expect(body.error.type == "unavailable_error")
                    #expect(body.error.message.contains("loading the default model"))
                }
            }
            readiness.markReady()
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func infoReportsVersionBuildAndLimits() async throws {
        var configured = try Self.configuration()
        configured.limits.maxImagesPerRequest = 7
        let configuration = configured
        let app = try buildApplication(configuration: configuration)
        try await app.test(.router) { client in
            try await client.execute(uri: "/info", method: .get) { response in
                #expect(response.status == .ok)
                let info = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
                #expect(info["name"] as? String == "tagtune")
                #expect(info["version"] as? String == BuildInfo.version)
                let build = info["build"] as! [String: Any]
                #expect((build["blas"] as? String)?.contains("OpenBLAS") == true)
                let limits = info["limits"] as! [String: Any]
                #expect(limits["max_images_per_request"] as? Int == 7)
                #expect(limits["max_body_bytes"] as? Int == configuration.limits.maxBodyBytes)
            }
        }
    }

    @Test func unknownPathIs404InTheErrorShape() async throws {
        let app = try buildApplication(configuration: try Self.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.code == "not_found")
                #expect(body.error.type == "not_found_error")
                #expect(body.error.param == nil)
            }
        }
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        let app = try buildApplication(configuration: try Self.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/info", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
                let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.code == "method_not_allowed")
            }
        }
    }

    @Test func metricsCountRequestsByRouteTemplate() async throws {
        let registry = PrometheusCollectorRegistry()
        let app = try buildApplication(configuration: try Self.configuration(), dependencies: AppDependencies(registry: registry))
        try await app.test(.router) { client in
            for _ in 0..<3 { _ = try await client.execute(uri: "/healthz", method: .get) }
            _ = try await client.execute(uri: "/no/such/12345", method: .get)
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                #expect(text.contains(#"tagtune_http_requests_total{route="/healthz",method="GET",status="200"} 3"#))
                #expect(text.contains(#"tagtune_http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
                #expect(text.contains("tagtune_http_request_duration_seconds_bucket"))
                #expect(!text.contains("12345"), "raw paths must never become label values")
            }
        }
    }

    @Test func clientRequestIDIsEchoed() async throws {
        let app = try buildApplication(configuration: try Self.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get, headers: [.init("X-Request-ID")!: "abc-123"]) { response in
                #expect(response.headers[.init("X-Request-ID")!] == "abc-123")
            }
        }
    }

    @Test func staticPageIsServedAndNothingOutsidePublic() async throws {
        let app = try buildApplication(configuration: try Self.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: response.body).contains("/info"))
            }
            // Hummingbird's file middleware refuses ".." with 400; either way nothing outside Public/ leaks.
            for uri in ["/../Package.swift", "/%2e%2e/Package.swift", "/..%2fPackage.swift"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect([.badRequest, .notFound].contains(response.status), "\(uri)")
                    #expect(!String(buffer: response.body).contains("PackageDescription"), "\(uri)")
                    let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                    #expect(!body.error.code.isEmpty)
                }
            }
        }
    }

    @Test func liveServerOnAnEphemeralPort() async throws {
        let readiness = Readiness()
        var configuration = try Self.configuration()
        configuration.registry.modelsDirectory = "/nonexistent/tagtune-models"
        let app = try buildApplication(configuration: configuration, dependencies: AppDependencies(readiness: readiness))
        try await app.test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable, "not ready without a default model and prompt set")
            }
        }
    }
}

/// A slow handler is stopped at the configured timeout with a 503 in the error shape.
@Suite("Request timeout")
struct RequestTimeoutTests {
    @Test func slowRequestIsStopped() async throws {
        var configuration = try OperationsRoutesTests.configuration()
        configuration.limits.requestTimeoutSeconds = 0.2
        let router = try buildRouter(configuration: configuration, dependencies: AppDependencies(), logger: .init(label: "test"))
        // Whether the handler saw its cancellation (no wall-clock bound: other suites load the CPU).
        let cancelled = NIOLockedValueBox(false)
        router.get("/slow") { _, _ -> String in
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                cancelled.withLockedValue { $0 = true }
                throw error
            }
            return "late"
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/slow", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONDecoder().decode(OperationsRoutesTests.ErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.code == "timeout")
            }
            #expect(cancelled.withLockedValue { $0 }, "the handler is cancelled, not awaited")
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
