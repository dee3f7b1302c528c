import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id (the client's `X-Request-ID` when it is short and printable),
/// puts it in the logger's metadata and echoes it in the response, then logs the request's outcome.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = TagTuneRequestContext
    let maxBodyBytes: Int
    /// 429s are sampled: an overload must not also fill the log volume.
    var refusals = RefusalLogSampler()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let supplied = request.headers[.xRequestID], (1...128).contains(supplied.count),
           supplied.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.isPrintable }) {
            context.requestID = supplied
        }
        context.maxUploadSize = maxBodyBytes
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        context.logger[metadataKey: "hb.request.id"] = nil   // one id per request in the logs
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.xRequestID] = context.requestID
        let elapsed = ContinuousClock.now - start
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code),
            "ms": .string(String(format: "%.2f", elapsed.seconds * 1000)),
        ]
        if response.status == .tooManyRequests {
            guard let skipped = refusals.admit() else { return response }
            metadata["refusals_not_logged"] = .stringConvertible(skipped)
        }
        context.logger.info("request", metadata: metadata)
        return response
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-ID")!
}

extension Character {
    var isPrintable: Bool { asciiValue.map { $0 >= 0x21 && $0 < 0x7F } ?? false }
}

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
