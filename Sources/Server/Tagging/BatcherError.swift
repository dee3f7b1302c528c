/// Why the batcher did not take or finish a request's images.
enum BatcherError: Error, Sendable, CustomStringConvertible, APIErrorConvertible {
    case queueFull(waiting: Int, adding: Int, limit: Int)
    case shuttingDown
    case wrongPixelCount(expected: Int, got: Int)

    var description: String {
        switch self {
        case .queueFull(let waiting, let adding, let limit):
            return "the encoder queue is full (\(waiting) images waiting, \(adding) more would pass batching.max_queue = \(limit)); retry shortly"
        case .shuttingDown:
            return "the server is shutting down"
        case .wrongPixelCount(let expected, let got):
            return "internal: \(got) pixel values for an image of \(expected)"
        }
    }

    var apiError: APIError {
        switch self {
        case .queueFull:
            var error = APIError(.tooManyRequests, code: "queue_full", message: description)
            error.headers[.retryAfter] = "1"
            return error
        case .shuttingDown:
            return APIError(.serviceUnavailable, code: "shutting_down", message: description)
        case .wrongPixelCount:
            return APIError(.internalServerError, code: "internal_error", message: description)
        }
    }
}
