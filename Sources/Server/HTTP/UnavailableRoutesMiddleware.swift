import Hummingbird

/// Answers every request under the given path prefixes with one error: the datasets and jobs
/// routes of a server that started without its database (a full disk), which would otherwise be
/// 404s as if the API had no such routes.
struct UnavailableRoutesMiddleware<Context: RequestContext>: RouterMiddleware {
    let prefixes: [[Substring]]
    let error: APIError

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let segments = RouteTable.segments(of: request.uri.path)
        if prefixes.contains(where: { segments.starts(with: $0) }) { throw error }
        return try await next(request, context)
    }
}
