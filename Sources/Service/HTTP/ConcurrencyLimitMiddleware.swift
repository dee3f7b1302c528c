import Hummingbird
import Synchronization

/// Answers 429 at once when more than `limit` requests are in progress, so an overloaded
/// server sheds load instead of queueing without bound. Liveness stays exempt.
struct ConcurrencyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The shared count of requests in progress (a class: the middleware is copied).
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
    let limit: Int
    let inProgress = Counter()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let now = inProgress.value.wrappingAdd(1, ordering: .relaxed).newValue
        defer { inProgress.value.wrappingSubtract(1, ordering: .relaxed) }
        guard now <= limit else {
            var error = APIError(.tooManyRequests, code: "overloaded",
                                 message: "the server is handling \(limit) requests already; retry shortly")
            error.headers[.retryAfter] = "1"
            throw error
        }
        return try await next(request, context)
    }
}
