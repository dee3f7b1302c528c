import Hummingbird
import Logging
import NIOCore

/// Turns every error into the API's error shape: our own `APIError`s as they are,
/// Hummingbird's `HTTPError`s with their status, 404s for known paths into 405s,
/// and anything else into a 500 whose details go to the log, not to the client.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = TagTuneRequestContext
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as any APIErrorConvertible {
            return try error.apiError.response(from: request, context: context)
        } catch let error as HTTPError {
            if error.status == .notFound {
                let allowed = routes.methods(for: request.uri.path)
                let apiError = allowed.isEmpty
                    ? APIError.notFound(request.uri.path)
                    : APIError.methodNotAllowed(request.method, path: request.uri.path, allowed: allowed)
                return try apiError.response(from: request, context: context)
            }
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return try APIError(error.status, code: code, message: error.body ?? error.status.reasonPhrase)
                .response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return try BodyTooLarge.error(limit: context.maxUploadSize).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            // The status says what happened; the error's own description would name internal types.
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            context.logger.notice("request refused", metadata: ["error": "\(String(reflecting: error))"])
            return try APIError(error.status, code: code, message: error.status.reasonPhrase).response(from: request, context: context)
        } catch where StoreUnavailable.matches(error) {
            context.logger.error("database unavailable", metadata: ["error": "\(String(reflecting: error))"])
            var refusal = StoreUnavailable.apiError
            refusal.headers[.retryAfter] = "2"
            return try refusal.response(from: request, context: context)
        } catch where OutOfSpace.matches(error) {
            context.logger.error("out of disk space", metadata: ["error": "\(String(reflecting: error))"])
            return try OutOfSpace.apiError.response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return try APIError(.internalServerError, code: "internal_error",
                                message: "internal error; see the server log for request \(context.requestID)")
                .response(from: request, context: context)
        }
    }
}
