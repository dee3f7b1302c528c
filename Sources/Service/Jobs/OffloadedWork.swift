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

/// A flag set when the awaiting task is cancelled, for blocking work to check before it commits.
final class CancellationFlag: Sendable {
    private let flag = NIOLockedValueBox(false)

    var isSet: Bool { flag.withLockedValue { $0 } }
    func set() { flag.withLockedValue { $0 = true } }
}
