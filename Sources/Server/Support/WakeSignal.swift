import NIOConcurrencyHelpers

/// Wakes waiting loops: idle job workers when a job is queued, the prompt-set sync when the catalog
/// changed. A waiter notes `generation` before looking for work and waits for it to change, so a
/// ring while it looked is never missed.
final class WakeSignal: Sendable {
    private struct State {
        var generation = 0
        var closed = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }
    private let state = NIOLockedValueBox(State())

    var generation: Int { state.withLockedValue { $0.generation } }
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// New work may be there: wake every waiting worker.
    func ring() {
        let waiters = state.withLockedValue { state in
            state.generation += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// No more work will be taken (shutdown): wake every worker, now and later.
    func close() {
        let waiters = state.withLockedValue { state in
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the generation differs from `seen`, the signal is closed, `timeout` has passed
    /// (a poll: jobs queued on other replicas, leases that expired; a missed notification), or the task is cancelled.
    func wait(after seen: Int, timeout: Duration? = nil) async {
        let id = state.withLockedValue { state -> UInt64 in state.nextWaiter += 1; return state.nextWaiter }
        let wake: @Sendable () -> Void = { [state] in state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume() }
        let timer = timeout.map { timeout in Task { try await Task.sleep(for: timeout); wake() } }
        defer { timer?.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLockedValue { state in
                    if state.closed || state.generation != seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            wake()
        }
    }
}
