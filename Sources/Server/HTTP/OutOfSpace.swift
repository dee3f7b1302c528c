import Foundation
import GRDB
import Hummingbird
import NIOCore

/// Recognises "the disk is full" in the errors of the layers that write (Foundation, POSIX, NIO,
/// SQLite), so that a client is told 507 `insufficient_storage` — the server's state, to retry
/// later — instead of 422 (its data looked bad) or 500.
public enum OutOfSpace {
    public static func matches(_ error: any Error) -> Bool {
        switch error {
        case let error as DatabaseError:
            return error.resultCode == .SQLITE_FULL
        case let error as IOError:
            return [ENOSPC, EDQUOT].contains(error.errnoCode)
        case let error as POSIXError:
            return [.ENOSPC, .EDQUOT].contains(error.code)
        case let error as CocoaError where error.code == .fileWriteOutOfSpace:
            return true
        default:
            let error = error as NSError
            if error.domain == NSPOSIXErrorDomain, [Int(ENOSPC), Int(EDQUOT)].contains(error.code) { return true }
            if error.domain == NSCocoaErrorDomain, error.code == CocoaError.fileWriteOutOfSpace.rawValue { return true }
            if let underlying = error.userInfo[NSUnderlyingErrorKey] as? any Error { return matches(underlying) }
            return false
        }
    }

    public static let apiError = APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), code: "insufficient_storage",
                                   message: "the server is out of disk space; nothing was stored, retry once space is freed")
}

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
