import Hummingbird

/// Requires `Authorization: Bearer <key>` on every mutating request under `/v1` (POST, PUT,
/// PATCH, DELETE — tagging included, since it spends the server's compute) once API keys are
/// configured; reads stay open. A missing or wrong key is 401 in the error shape with
/// `WWW-Authenticate: Bearer`.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = TagTuneRequestContext
    static let mutatingMethods: Set<HTTPRequest.Method> = [.post, .put, .patch, .delete]

    let keys: APIKeySet

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty, Self.mutatingMethods.contains(request.method), Self.isProtected(request.uri.path) else {
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

    static func isProtected(_ path: String) -> Bool { path == "/v1" || path.hasPrefix("/v1/") }

    static func unauthorized(code: String, message: String, challenge: String) -> APIError {
        var error = APIError(.unauthorized, code: code, message: message)
        error.headers[.wwwAuthenticate] = challenge
        return error
    }
}
