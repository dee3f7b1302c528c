import NIOConcurrencyHelpers

/// Wakes idle job workers when a job is queued. A worker notes `generation` before looking for
/// work and waits for it to change, so a job queued while it looked is never missed.
final class JobQueueSignal: Sendable {
    private struct State {
        var generation = 0
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = NIOLockedValueBox(State())

    var generation: Int { state.withLockedValue { $0.generation } }
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// New work may be there: wake every waiting worker.
    func ring() {
        let waiters = state.withLockedValue { state in
            state.generation += 1
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// No more work will be taken (shutdown): wake every worker, now and later.
    func close() {
        let waiters = state.withLockedValue { state in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the generation differs from `seen`, or the signal is closed (or the task cancelled).
    func wait(after seen: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLockedValue { state in
                    if state.closed || state.generation != seen { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            close()
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
