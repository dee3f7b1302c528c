import Dispatch

/// Runs blocking work (loading weights, hashing files, decoding images) on Dispatch's global
/// threads, so it occupies neither the event loops nor Swift's small cooperative pool.
enum BlockingWork {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
