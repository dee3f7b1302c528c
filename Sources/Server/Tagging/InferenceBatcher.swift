import Foundation
import ServiceLifecycle

/// One image's projected features out of a batch, and what it waited and cost.
public struct EncodedImage: Sendable {
    /// Projected image features [D] (not normalised).
    public let features: [Float]
    /// From being queued to its batch starting.
    public let queueDuration: Duration
    /// The whole batched encoder call it was part of.
    public let inferenceDuration: Duration
    public let batchSize: Int
}

/// Runs every encoder call of the server on one dedicated thread, never on the event loops
/// or the cooperative pool, and groups the images of concurrent requests into batched calls.
///
/// A batch starts once `maxBatchSize` images for the same encoder are waiting, or when the
/// oldest has waited `maxWaitMilliseconds`. Beyond `maxQueue` images waiting, a request is
/// refused at once (`queue_full`, 429). Short exclusive jobs (text features for zero-shot
/// classes) run on the same thread between batches, so BLAS never runs twice at once here.
/// A service: its thread starts with the application (or with the first request, whichever
/// comes first) and stops on graceful shutdown.
public final class InferenceBatcher: Service, @unchecked Sendable {
    private enum State { case notStarted, running, stopped }

    /// One request's images; touched only under `condition`.
    private final class Ticket: @unchecked Sendable {
        var results: [EncodedImage?]
        var remaining: Int
        var continuation: CheckedContinuation<[EncodedImage], any Error>?
        var done = false
        init(count: Int) { results = Array(repeating: nil, count: count); remaining = count }
    }

    private struct PendingImage {
        let ticket: Ticket
        let index: Int
        let encoder: LoadedEncoder
        let pixels: [Float]
        let enqueued: ContinuousClock.Instant
        /// Runs without waiting for others to join its batch (the warm-up).
        let urgent: Bool
    }

    private struct Job {
        let run: () -> Void
        let fail: (any Error) -> Void
    }

    public let configuration: BatchingConfiguration
    private let observer: (any InferenceObserver)?
    private let metrics: InferenceMetrics

    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var state = State.notStarted
    private var queue: [PendingImage] = []
    private var jobs: [Job] = []

    init(configuration: BatchingConfiguration, metrics: InferenceMetrics, observer: (any InferenceObserver)?) {
        self.configuration = configuration
        self.metrics = metrics
        self.observer = observer
    }

    /// Images waiting for a batch.
    public var depth: Int { condition.withLock { queue.count } }

    // MARK: Service

    public func run() async throws {
        start()
        try? await gracefulShutdown()
        stop()
    }

    func start() {
        condition.withLock {
            guard state == .notStarted else { return }
            state = .running
            let thread = Thread { [self] in workLoop() }
            thread.name = "tagtune-inference"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Stops the thread after its current batch; everything still waiting fails with `shuttingDown`.
    func stop() {
        var failedJobs: [Job] = []
        condition.withLock {
            state = .stopped
            let tickets = queue.map(\.ticket)
            queue.removeAll()
            metrics.queueDepth.record(0)
            failedJobs = jobs
            jobs.removeAll()
            for ticket in tickets where !ticket.done {
                ticket.done = true
                ticket.continuation?.resume(throwing: BatcherError.shuttingDown)
            }
            condition.broadcast()
        }
        for job in failedJobs { job.fail(BatcherError.shuttingDown) }
    }

    // MARK: Submitting

    /// Encodes preprocessed images (`3 × size × size` values each) with `encoder`, in batches
    /// shared with other requests. Cancelling the calling task takes its waiting images out of the queue.
    /// `urgent` images start a batch at once instead of waiting up to `maxWaitMilliseconds` for company.
    public func encode(_ images: [[Float]], with encoder: LoadedEncoder, urgent: Bool = false) async throws -> [EncodedImage] {
        guard !images.isEmpty else { return [] }
        let size = encoder.model.configuration.imageSize, expected = 3 * size * size
        if let wrong = images.first(where: { $0.count != expected }) {
            throw BatcherError.wrongPixelCount(expected: expected, got: wrong.count)
        }
        let ticket = Ticket(count: images.count)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                start()
                condition.withLock {
                    if Task.isCancelled { return continuation.resume(throwing: CancellationError()) }
                    if state == .stopped { return continuation.resume(throwing: BatcherError.shuttingDown) }
                    guard queue.count + images.count <= configuration.maxQueue else {
                        return continuation.resume(throwing: BatcherError.queueFull(
                            waiting: queue.count, adding: images.count, limit: configuration.maxQueue))
                    }
                    ticket.continuation = continuation
                    let now = ContinuousClock.now
                    for (index, pixels) in images.enumerated() {
                        queue.append(PendingImage(ticket: ticket, index: index, encoder: encoder, pixels: pixels, enqueued: now, urgent: urgent))
                    }
                    // Under the lock, so an observer (and the depth gauge) sees an image queued before
                    // its batch runs: recorded after unlocking, a late "1" could follow the worker's "0".
                    metrics.queueDepth.record(queue.count)
                    observer?.queued(images: images.count, depth: queue.count)
                    condition.signal()
                }
            }
        } onCancel: {
            cancel(ticket)
        }
    }

    /// Runs `work` on the inference thread between batches (for other encoder calls).
    public func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        start()
        return try await withCheckedThrowingContinuation { continuation in
            let accepted = condition.withLock { () -> Bool in
                guard state != .stopped else { return false }
                jobs.append(Job(run: { continuation.resume(with: Result { try work() }) },
                                fail: { continuation.resume(throwing: $0) }))
                condition.signal()
                return true
            }
            if !accepted { continuation.resume(throwing: BatcherError.shuttingDown) }
        }
    }

    private func cancel(_ ticket: Ticket) {
        condition.withLock {
            guard !ticket.done else { return }
            queue.removeAll { $0.ticket === ticket }
            metrics.queueDepth.record(queue.count)
            ticket.done = true
            ticket.continuation?.resume(throwing: CancellationError())
        }
    }

    // MARK: The inference thread

    private func workLoop() {
        while let work = nextWork() {
            switch work {
            case .job(let job): job.run()
            case .batch(let batch):
                run(batch)
            }
        }
    }

    private enum Work {
        case job(Job)
        case batch([PendingImage])
    }

    /// Waits for the next job or batch; nil once stopped.
    private func nextWork() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while state != .stopped && queue.isEmpty && jobs.isEmpty { condition.wait() }
            if state == .stopped { return nil }
            if !jobs.isEmpty { return .job(jobs.removeFirst()) }
            // Let the batch of the oldest image fill up until it is full or has waited long enough.
            let head = queue[0]
            let waitLimit = Duration.nanoseconds(Int64(configuration.maxWaitMilliseconds * 1_000_000))
            let remaining = head.enqueued + waitLimit - ContinuousClock.now
            let sameEncoder = queue.lazy.filter { $0.encoder.isSame(as: head.encoder) }.count
            if sameEncoder < configuration.maxBatchSize && remaining > .zero && !head.urgent {
                _ = condition.wait(until: Date(timeIntervalSinceNow: remaining.seconds))
                continue   // the queue may have changed: cancelled, grown, a job, or stopped
            }
            var batch: [PendingImage] = []
            var rest: [PendingImage] = []
            for item in queue {
                if batch.count < configuration.maxBatchSize && item.encoder.isSame(as: head.encoder) {
                    batch.append(item)
                } else {
                    rest.append(item)
                }
            }
            queue = rest
            metrics.queueDepth.record(queue.count)   // under the lock: gauge updates keep the queue's order
            return .batch(batch)
        }
    }

    /// Encodes one batch in a single call and completes the requests it finishes.
    private func run(_ batch: [PendingImage]) {
        let encoder = batch[0].encoder
        observer?.batchWillRun(model: encoder.name, size: batch.count)
        let start = ContinuousClock.now
        var pixels: [Float] = []
        pixels.reserveCapacity(batch.count * batch[0].pixels.count)
        for item in batch { pixels += item.pixels }
        let result = Result { try encoder.model.encodeImages(pixels: pixels, count: batch.count) }
        let inference = ContinuousClock.now - start

        metrics.inferenceDuration.recordNanoseconds(inference.nanoseconds)
        metrics.batchSize.record(batch.count)
        for item in batch { metrics.queueDuration.recordNanoseconds((start - item.enqueued).nanoseconds) }

        // Observed before the requests complete, so whoever sees a response also sees its batch.
        let requests = Set(batch.map { ObjectIdentifier($0.ticket) }).count
        observer?.batchDidRun(BatchRecord(
            model: encoder.name, size: batch.count, requests: requests, inferenceDuration: inference,
            error: result.failureDescription))

        let d = encoder.model.configuration.projectionDim
        condition.withLock {
            switch result {
            case .success(let features):
                for (k, item) in batch.enumerated() where !item.ticket.done {
                    let ticket = item.ticket
                    ticket.results[item.index] = EncodedImage(
                        features: Array(features[(k * d)..<((k + 1) * d)]), queueDuration: start - item.enqueued,
                        inferenceDuration: inference, batchSize: batch.count)
                    ticket.remaining -= 1
                    if ticket.remaining == 0 {
                        ticket.done = true
                        ticket.continuation?.resume(returning: ticket.results.map { $0! })
                    }
                }
            case .failure(let error):
                for item in batch where !item.ticket.done {
                    item.ticket.done = true
                    queue.removeAll { $0.ticket === item.ticket }
                    item.ticket.continuation?.resume(throwing: error)
                }
            }
        }
    }
}

private extension Result where Failure == any Error {
    var failureDescription: String? {
        if case .failure(let error) = self { return "\(error)" }
        return nil
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var milliseconds: Double { seconds * 1000 }
}
