import Compute
import Foundation
import Hummingbird
import Prometheus

/// Liveness, readiness, build and limits information, and Prometheus metrics.
struct OperationsController {
    let configuration: ServerConfiguration
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry
    /// The default model, when a model registry serves.
    var defaultModel: (@Sendable () async -> DefaultModelInfo?)? = nil
    /// Why the shared store cannot serve yet (PostgreSQL still migrating or unreachable at start), or nil.
    var storeProblem: (@Sendable () -> String?)? = nil

    struct Status: ResponseEncodable {
        let status: String
    }

    struct Info: ResponseEncodable {
        struct Build: Encodable {
            let configuration: String
            let compiler: String
            let blas: String
            let blas_threads: Int
            let onednn: String
            let bf16_kernels: Bool
        }
        let name: String
        let version: String
        let build: Build
        let ready: Bool
        let limits: ServerConfiguration.Limits
        let batching: BatchingConfiguration
        let model: DefaultModelInfo?
        let authRequired: Bool

        enum CodingKeys: String, CodingKey {
            case name, version, build, ready, limits, batching, model
            case authRequired = "auth_required"
        }
    }

    func register(on router: TableRouter) {
        router.get("/healthz") { _, _ in Status(status: "ok") }
        for path in ["/readyz", "/health"] {
            router.get(RouterPath(path)) { _, _ in try await readinessStatus() }
        }
        router.get("/info") { _, _ in await info() }
        router.get("/metrics") { _, _ in metrics() }
    }

    func readinessStatus() async throws -> Status {
        if let problem = storeProblem?() {
            throw APIError(.serviceUnavailable, code: "not_ready", message: "not ready: \(problem)")
        }
        guard readiness.isReady else {
            throw APIError(.serviceUnavailable, code: "not_ready", message: "not ready: \(readiness.reason)")
        }
        if let problem = await readiness.recheck() {
            throw APIError(.serviceUnavailable, code: "not_ready", message: "not ready: \(problem)")
        }
        return Status(status: "ready")
    }

    func info() async -> Info {
        Info(
            name: BuildInfo.name, version: BuildInfo.version,
            build: .init(configuration: BuildInfo.configuration, compiler: BuildInfo.compiler,
                         blas: BuildInfo.blas, blas_threads: Compute.BLAS.threads,
                         onednn: "\(OneDNN.version) (\(OneDNN.isa))", bf16_kernels: OneDNN.hasNativeBF16),
            ready: readiness.isReady, limits: configuration.limits, batching: configuration.batching,
            model: await defaultModel?(), authRequired: configuration.auth.isEnabled)
    }

    func metrics() -> Response {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
