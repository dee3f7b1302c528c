/// How concurrent tagging requests share the encoder (`batching.*`), reported by `/info`.
public struct BatchingConfiguration: Sendable, Equatable, Codable {
    /// Most images encoded in one batched call.
    public var maxBatchSize: Int
    /// Longest time the first image of a batch waits for others to join it.
    public var maxWaitMilliseconds: Double
    /// Most images waiting for the encoder; a request that would go past it is answered 429.
    public var maxQueue: Int

    public init(maxBatchSize: Int, maxWaitMilliseconds: Double, maxQueue: Int) {
        self.maxBatchSize = maxBatchSize
        self.maxWaitMilliseconds = maxWaitMilliseconds
        self.maxQueue = maxQueue
    }

    enum CodingKeys: String, CodingKey {
        case maxBatchSize = "max_batch_size"
        case maxWaitMilliseconds = "max_wait_ms"
        case maxQueue = "max_queue"
    }
}
