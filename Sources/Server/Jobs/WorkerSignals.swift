import NIOConcurrencyHelpers

/// Wakes idle job workers when a job is queued. A worker notes `generation` before looking for
/// work and waits for it to change, so a job queued while it looked is never missed.
final class JobQueueSignal: Sendable {
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
    /// (the claim poll: jobs queued on other replicas, leases that expired), or the task is cancelled.
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

/// Jobs whose cancellation was asked for while they run: the cancel route adds them, the
/// trainer polls before every step (cheaply, without the database).
final class CancellationRequests: Sendable {
    private let ids = NIOLockedValueBox<Set<String>>([])

    func request(_ id: String) { _ = ids.withLockedValue { $0.insert(id) } }
    func isRequested(_ id: String) -> Bool { ids.withLockedValue { $0.contains(id) } }
    func clear(_ id: String) { _ = ids.withLockedValue { $0.remove(id) } }
}
