/// A domain error that knows its place in the API's error shape; the error middleware answers
/// with `apiError` (status, code, param) instead of a generic 500.
protocol APIErrorConvertible: Error {
    var apiError: APIError { get }
}
