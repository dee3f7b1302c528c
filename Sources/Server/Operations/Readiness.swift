import NIOConcurrencyHelpers

/// Whether the server has loaded what it serves. `/readyz` answers 503 with the reason
/// until `markReady()`; loaders report progress through `setNotReady(_:)`.
public final class Readiness: Sendable {
    private let state: NIOLockedValueBox<(ready: Bool, reason: String)>
    /// Asked on every readiness probe once ready: what was loaded may have gone since (a deleted
    /// default prompt set); a reason means not ready.
    private let stillReady = NIOLockedValueBox<(@Sendable () async -> String?)?>(nil)
    /// Set at SIGTERM: not ready from then on, whatever a loader says.
    private let draining = NIOLockedValueBox(false)

    public init(ready: Bool = false, reason: String = "starting") {
        state = .init((ready, reason))
    }

    public var isReady: Bool { state.withLockedValue { $0.ready } }
    public var reason: String { state.withLockedValue { $0.reason } }

    public func markReady(recheck: (@Sendable () async -> String?)? = nil) {
        stillReady.withLockedValue { $0 = recheck }
        if !draining.withLockedValue({ $0 }) { state.withLockedValue { $0 = (true, "ready") } }
    }

    /// Shutting down: `/readyz` answers 503 (so load balancers stop sending requests) while the
    /// server still answers and hands its running jobs back.
    public func markDraining() {
        draining.withLockedValue { $0 = true }
        state.withLockedValue { $0 = (false, "draining: the server is shutting down and hands its running jobs back") }
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
