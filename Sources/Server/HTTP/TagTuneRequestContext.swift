import Hummingbird
import Logging

/// The request context of every route: Hummingbird's core storage plus the request id
/// (taken from `X-Request-ID` when the client sends a sane one) and the body size limit.
public struct TagTuneRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String
    public var maxUploadSize: Int

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = "\(RequestID())"
        maxUploadSize = 2 * 1024 * 1024
    }
}
