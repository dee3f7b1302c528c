import NIOConcurrencyHelpers

/// Whether the server has loaded what it serves. `/readyz` answers 503 with the reason
/// until `markReady()`; loaders report progress through `setNotReady(_:)`.
public final class Readiness: Sendable {
    private let state: NIOLockedValueBox<(ready: Bool, reason: String)>

    public init(ready: Bool = false, reason: String = "starting") {
        state = .init((ready, reason))
    }

    public var isReady: Bool { state.withLockedValue { $0.ready } }
    public var reason: String { state.withLockedValue { $0.reason } }

    public func markReady() { state.withLockedValue { $0 = (true, "ready") } }
    public func setNotReady(_ reason: String) { state.withLockedValue { $0 = (false, reason) } }
    /// Says what is still missing, without taking back a readiness someone already declared.
    public func reportProgress(_ reason: String) {
        state.withLockedValue { if !$0.ready { $0.reason = reason } }
    }
}
