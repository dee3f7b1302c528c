import NIOConcurrencyHelpers

/// Runs an operation with a time limit that holds even when the operation ignores cancellation:
/// after `limit` the caller gets `onTimeout` and the operation is cancelled and left to end (or
/// not) on its own. For calls into libraries that can hang, never for work that must be awaited.
enum Deadline {
    static func run<T: Sendable>(_ limit: Duration, onTimeout: @autoclosure @escaping @Sendable () -> any Error,
                                 _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let settled = NIOLockedValueBox(false)
        let tasks = NIOLockedValueBox<(work: Task<Void, Never>?, timer: Task<Void, Never>?)>((nil, nil))
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            func settle(_ result: Result<T, any Error>) {
                let first = settled.withLockedValue { done in defer { done = true }; return !done }
                guard first else { return }
                continuation.resume(with: result)
            }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                tasks.withLockedValue { $0.timer }?.cancel()
                settle(result)
            }
            tasks.withLockedValue { $0.work = work }   // before the timer, which may fire at once
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                // Settled before the cancel: what the cancelled operation throws on its way out
                // (postgres-nio: `queryCancelled`) must not reach the caller.
                settle(.failure(onTimeout()))
                tasks.withLockedValue { $0.work }?.cancel()
            }
            tasks.withLockedValue { $0.timer = timer }
        }
    }
}
