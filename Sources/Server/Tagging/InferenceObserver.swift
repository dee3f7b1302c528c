/// What one batched encoder call did, for observers and tests.
public struct BatchRecord: Sendable, Equatable {
    public let model: String
    /// Images encoded together.
    public let size: Int
    /// Requests those images came from.
    public let requests: Int
    public let inferenceDuration: Duration
    /// Nil when the batch succeeded.
    public let error: String?
}

/// Watches the batcher from outside: metrics-free hooks for tests and diagnostics.
/// `batchWillRun` and `batchDidRun` are called on the inference thread, so a test can hold a
/// batch there (to fill the queue deterministically); keep them short otherwise.
public protocol InferenceObserver: Sendable {
    /// Images were queued; `depth` is the number now waiting. Called under the batcher's lock
    /// (so before the batch that takes them runs): never call back into the batcher from here.
    func queued(images: Int, depth: Int)
    /// A batch is about to be encoded.
    func batchWillRun(model: String, size: Int)
    /// A batch was encoded (or failed); called before its requests complete.
    func batchDidRun(_ record: BatchRecord)
}

extension InferenceObserver {
    public func queued(images: Int, depth: Int) {}
    public func batchWillRun(model: String, size: Int) {}
    public func batchDidRun(_ record: BatchRecord) {}
}
