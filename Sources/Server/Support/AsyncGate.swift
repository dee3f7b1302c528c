import NIOConcurrencyHelpers

/// A gate that opens once: callers wait until it is open (a store whose migrations have run).
final class AsyncGate: Sendable {
    private struct State {
        var open = false
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0
    }
    private let state = NIOLockedValueBox(State())

    var isOpen: Bool { state.withLockedValue { $0.open } }

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the gate is open; throws `timeoutError` after `timeout` (and on task cancellation).
    func wait(timeout: Duration, timeoutError: @autoclosure @escaping @Sendable () -> any Error) async throws {
        if isOpen { return }
        let id = state.withLockedValue { state -> UInt64 in state.nextID += 1; return state.nextID }
        let abandon: @Sendable (any Error) -> Void = { [state] error in
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume(throwing: error)
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            abandon(timeoutError())
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = state.withLockedValue { state in
                    if state.open { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            abandon(CancellationError())
        }
    }
}
