import Hummingbird

/// Ends a request that takes longer than `limits.request_timeout_seconds` with a 503 in the error
/// shape, cancelling its handler (handlers stop at their next cancellation check). Liveness is exempt.
struct RequestTimeoutMiddleware<Context: RequestContext>: RouterMiddleware {
    let timeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        return try await withoutActuallyEscaping(next) { next in
            let work = UncheckedBox((next, request, context))
            return try await withThrowingTaskGroup(of: Response.self) { group in
                group.addTask { try await work.value.0(work.value.1, work.value.2) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw APIError(.serviceUnavailable, code: "timeout",
                                   message: "the request took longer than \(timeout) and was stopped")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        }
    }
}

/// Carries the request's non-Sendable pieces into the child task that runs the handler; the parent
/// waits for that task, so they are never used concurrently.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
