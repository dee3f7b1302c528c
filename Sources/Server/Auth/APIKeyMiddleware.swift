import Hummingbird

/// Requires `Authorization: Bearer <key>` on every mutating request under `/v1` (POST, PUT,
/// PATCH, DELETE — tagging included, since it spends the server's compute) once API keys are
/// configured; reads stay open. A missing or wrong key is 401 in the error shape with
/// `WWW-Authenticate: Bearer`. Protection is decided on the path as the router matches it
/// (empty segments skipped), never on the raw string, so `//v1/tag` needs a key like `/v1/tag`.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = TagTuneRequestContext
    static let mutatingMethods: Set<HTTPRequest.Method> = [.post, .put, .patch, .delete]

    let keys: APIKeySet
    /// A known path asked with a method it does not serve is answered 405 by the error middleware,
    /// key or not: no handler runs for it.
    var routes: RouteTable = RouteTable()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty, Self.mutatingMethods.contains(request.method), Self.isProtected(request.uri.path),
              !isUnservedMethod(request) else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw Self.unauthorized(code: "missing_api_key", message: "this route needs an API key: send Authorization: Bearer <key>",
                                    challenge: #"Bearer realm="tagtune""#)
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.unauthorized(code: "invalid_authorization", message: "the Authorization header must be Bearer <key>",
                                    challenge: #"Bearer realm="tagtune", error="invalid_request""#)
        }
        guard keys.contains(parts[1].trimmingWhitespace()) else {
            context.logger.notice("refused API key", metadata: ["path": .string(request.uri.path)])
            throw Self.unauthorized(code: "invalid_api_key", message: "the API key is not valid",
                                    challenge: #"Bearer realm="tagtune", error="invalid_token""#)
        }
        return try await next(request, context)
    }

    /// Under `/v1` as routed: the first non-empty segment, compared without case so that a
    /// case-insensitive router option could never open a way around it.
    static func isProtected(_ path: String) -> Bool {
        guard let first = RouteTable.segments(of: path).first(where: { $0 != "." }) else { return false }
        return first.lowercased() == "v1"
    }

    private func isUnservedMethod(_ request: Request) -> Bool {
        let served = routes.methods(for: request.uri.path)
        return !served.isEmpty && !served.contains(request.method)
    }

    static func unauthorized(code: String, message: String, challenge: String) -> APIError {
        var error = APIError(.unauthorized, code: code, message: message)
        error.headers[.wwwAuthenticate] = challenge
        return error
    }
}
