import CoreMetrics
import Hummingbird
import Metrics
import NIOConcurrencyHelpers

/// Counts requests and times them by route template, method and status:
/// `tagtune_http_requests_total` and `tagtune_http_request_duration_seconds`.
/// Unmatched paths share the route label "unmatched", so label cardinality stays bounded.
/// Sits outside the error middleware, so the status it sees is the one the client gets.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        let response = try await next(request, context)
        let route = Self.routeLabel(endpoint: context.endpointPath, status: response.status)
        let series = metrics.series(route: route, method: request.method.rawValue, status: response.status.code)
        series.count.increment()
        series.duration.recordNanoseconds(Int64((ContinuousClock.now - start).seconds * 1e9))
        return response
    }

    /// The route template for routed requests; "static" for files; "unmatched" for 404/405,
    /// so arbitrary paths never become label values.
    static func routeLabel(endpoint: String?, status: HTTPResponse.Status) -> String {
        if status == .notFound || status == .methodNotAllowed { return "unmatched" }
        if let endpoint, endpoint.hasPrefix("/") { return endpoint }
        return "static"
    }
}

/// The HTTP series, made through an explicit metrics factory so each application
/// (and each test) can have its own registry.
public final class HTTPMetrics: Sendable {
    struct Series: Sendable {
        let count: Counter
        let duration: Metrics.Timer
    }
    private let factory: any MetricsFactory
    private let cache = NIOLockedValueBox<[String: Series]>([:])
    let inFlight: Meter

    public init(factory: any MetricsFactory) {
        self.factory = factory
        inFlight = Meter(label: "tagtune_http_requests_in_flight", dimensions: [], factory: factory)
    }

    func series(route: String, method: String, status: Int) -> Series {
        let key = "\(route) \(method) \(status)"
        return cache.withLockedValue { cache in
            if let found = cache[key] { return found }
            let made = Series(
                count: Counter(label: "tagtune_http_requests_total",
                               dimensions: [("route", route), ("method", method), ("status", String(status))],
                               factory: factory),
                duration: Metrics.Timer(label: "tagtune_http_request_duration_seconds",
                                        dimensions: [("route", route), ("method", method)],
                                        factory: factory))
            cache[key] = made
            return made
        }
    }
}
