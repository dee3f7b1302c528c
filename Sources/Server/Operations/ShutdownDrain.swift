import NIOConcurrencyHelpers

/// What SIGTERM does before the graceful shutdown, while the server still answers: `/readyz`
/// turns 503 (a load balancer, or Kubernetes, stops sending requests), and the job worker hands
/// its running jobs back so another replica claims them at once instead of after their lease.
/// `tagtune serve` runs it on the signal, then shuts the services down.
public final class ShutdownDrain: Sendable {
    private let steps = NIOLockedValueBox<[@Sendable () async -> Void]>([])

    public init() {}

    /// Adds a step (buildApplication adds the worker's hand-back).
    func add(_ step: @escaping @Sendable () async -> Void) { steps.withLockedValue { $0.append(step) } }

    public func drain(_ readiness: Readiness) async {
        readiness.markDraining()
        for step in steps.withLockedValue({ $0 }) { await step() }
    }
}
