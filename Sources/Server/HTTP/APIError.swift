import Foundation
import Hummingbird

/// The one error shape of the API:
/// `{"error": {"message": "…", "type": "…", "code": "…", "param": "…"}}` with the matching status.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    public let type: String
    public let code: String
    public let param: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String, param: String? = nil, type: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.type = type ?? APIError.defaultType(for: status)
    }

    /// The `type` field by status family, as OpenAI-style clients expect.
    static func defaultType(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: return "authentication_error"
        case 404: return "not_found_error"
        case 409: return "conflict_error"
        case 413, 415, 400, 405, 422: return "invalid_request_error"
        case 429: return "rate_limit_error"
        case 503: return "unavailable_error"
        default: return status.code >= 500 ? "server_error" : "invalid_request_error"
        }
    }

    /// A parameter the route does not take: a JSON field, a form field, a query parameter or a
    /// hyper-parameter. One code for all of them, as OpenAI-shaped clients expect.
    static func unknownParameter(_ param: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "unknown_parameter", message: message, param: param)
    }

    /// A required parameter that is absent (or null).
    static func missingParameter(_ param: String) -> APIError {
        APIError(.unprocessableContent, code: "missing_parameter", message: "\(param) is required", param: param)
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let message: String
            let type: String
            let code: String
            let param: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(message, forKey: .message)
                try container.encode(type, forKey: .type)
                try container.encode(code, forKey: .code)
                try container.encode(param, forKey: .param)   // explicit null, as the shape promises
            }
            enum CodingKeys: String, CodingKey { case message, type, code, param }
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: .init(message: ServerPathRedaction.clean(message), type: type, code: code, param: param))
        let data = try JSONEncoder().encode(body)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension APIError {
    static func notFound(_ path: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "no route or file at \(path)")
    }
    static func methodNotAllowed(_ method: HTTPRequest.Method, path: String, allowed: [HTTPRequest.Method]) -> APIError {
        var error = APIError(.methodNotAllowed, code: "method_not_allowed",
                             message: "\(method) is not allowed on \(path); allowed: \(allowed.map(\.rawValue).joined(separator: ", "))")
        error.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return error
    }
}

/// A domain error that knows its place in the API's error shape; the error middleware answers
/// with `apiError` (status, code, param) instead of a generic 500.
protocol APIErrorConvertible: Error {
    var apiError: APIError { get }
}
