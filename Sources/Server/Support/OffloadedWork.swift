import Dispatch
import NIOConcurrencyHelpers

/// Runs blocking work (dataset checks, training, file copies) on a Dispatch thread, never on
/// Swift's cooperative pool or an event loop, and awaits its result.
enum OffloadedWork {
    static func run<T: Sendable>(qos: DispatchQoS.QoSClass = .userInitiated,
                                 _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: qos).async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}

extension OffloadedWork {
    /// The same, but the awaiting task stops waiting as soon as it is cancelled (a request timeout,
    /// a client gone): it throws `CancellationError` at once and sets `cancelled`, which the work
    /// checks between its steps and then drops its result. A request no longer outlives its
    /// timeout by however long the blocking work still takes.
    static func runAbandonable<T: Sendable>(cancelled: CancellationFlag,
                                            _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let waiting = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiting.withLockedValue { $0 = continuation }
                if cancelled.isSet { waiting.withLockedValue { $0.take() }?.resume(throwing: CancellationError()) }
                DispatchQueue.global(qos: .userInitiated).async {
                    let result = Result { try body() }
                    waiting.withLockedValue { $0.take() }?.resume(with: result)
                }
            }
        } onCancel: {
            cancelled.set()
            waiting.withLockedValue { $0.take() }?.resume(throwing: CancellationError())
        }
    }
}

/// A flag set when the awaiting task is cancelled, for blocking work to check before it commits.
final class CancellationFlag: Sendable {
    private let flag = NIOLockedValueBox(false)

    var isSet: Bool { flag.withLockedValue { $0 } }
    func set() { flag.withLockedValue { $0 = true } }
}
