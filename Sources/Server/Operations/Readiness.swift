import NIOConcurrencyHelpers

/// Whether the server has loaded what it serves. `/readyz` answers 503 with the reason
/// until `markReady()`; loaders report progress through `setNotReady(_:)`.
public final class Readiness: Sendable {
    private let state: NIOLockedValueBox<(ready: Bool, reason: String)>
    /// Asked on every readiness probe once ready: what was loaded may have gone since (a deleted
    /// default prompt set); a reason means not ready.
    private let stillReady = NIOLockedValueBox<(@Sendable () async -> String?)?>(nil)

    public init(ready: Bool = false, reason: String = "starting") {
        state = .init((ready, reason))
    }

    public var isReady: Bool { state.withLockedValue { $0.ready } }
    public var reason: String { state.withLockedValue { $0.reason } }

    public func markReady(recheck: (@Sendable () async -> String?)? = nil) {
        stillReady.withLockedValue { $0 = recheck }
        state.withLockedValue { $0 = (true, "ready") }
    }

    /// Why the server is no longer ready although it was (nil: it is).
    public func recheck() async -> String? {
        guard let check = stillReady.withLockedValue({ $0 }) else { return nil }
        return await check()
    }
    public func setNotReady(_ reason: String) { state.withLockedValue { $0 = (false, reason) } }
    /// Says what is still missing, without taking back a readiness someone already declared.
    public func reportProgress(_ reason: String) {
        state.withLockedValue { if !$0.ready { $0.reason = reason } }
    }
}
