import Hummingbird
import NIOCore
import Synchronization

/// Answers 429 at once when more than `limit` requests are in progress, so an overloaded
/// server sheds load instead of queueing without bound. A request counts only once it can be
/// worked on: its body is read first (the connection's minimum body rate bounds how long that
/// takes), so clients trickling bodies hold no slot. Liveness and readiness are exempt: an
/// orchestrator that saw a busy server as unready would only move more load onto the others.
struct ConcurrencyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The shared count of requests in progress (a class: the middleware is copied).
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
    let limit: Int
    let inProgress = Counter()
    /// Routes that stream their body to disk themselves (dataset uploads, up to
    /// `datasets.max_upload_bytes`): counted from their head, as their handler reads the body.
    var streamsBody: @Sendable (Request) -> Bool = { _ in false }

    static func isProbe(_ path: String) -> Bool {
        let segments = RouteTable.segments(of: path)
        return segments.count == 1 && ["healthz", "readyz", "health"].contains(segments[0])
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.isProbe(request.uri.path) { return try await next(request, context) }
        var request = request
        if !streamsBody(request) {
            try await Self.readBody(of: &request, limit: context.maxUploadSize)
        }
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

    /// Buffers the body in the request (handlers then read it at once); a body over `limit`, declared
    /// or sent, is a 413 that closes the connection, since the rest of it is not read.
    static func readBody(of request: inout Request, limit: Int) async throws {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw BodyTooLarge.error(limit: limit)
        }
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw BodyTooLarge.error(limit: limit)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The connection ended or broke mid-body (a client gone, a too-slow body cut off): not a server fault.
            throw APIError(.badRequest, code: "incomplete_body", message: "the request body ended before it was complete")
        }
    }
}

/// The 413 for a request body over `limits.max_body_bytes`, naming the configured limit.
enum BodyTooLarge {
    static func error(limit: Int) -> APIError {
        var error = APIError(.contentTooLarge, code: "content_too_large",
                             message: "the request body is larger than \(limit) bytes (limits.max_body_bytes)")
        error.headers[.connection] = "close"
        return error
    }
}
