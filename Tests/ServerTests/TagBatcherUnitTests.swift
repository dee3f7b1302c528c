import CLIP
import Foundation
import Imaging
import Prometheus
import Testing
@testable import Server

/// The batcher on its own: batches never mix encoders, a cancelled request leaves the queue,
/// and stopping fails what still waits.
@Suite("Tagging batcher internals")
struct TagBatcherUnitTests {
    static func encoder(_ fixture: String, name: String) throws -> LoadedEncoder {
        let model = try CLIPModel(directory: TagFixtures.checkpoint(fixture))
        return LoadedEncoder(name: name, model: model, digest: try model.weightsDigest(), dtype: "F32")
    }

    static func pixels(_ encoder: LoadedEncoder) throws -> [Float] {
        encoder.model.preprocess.apply(try ImageDecoder.decode(try TagFixtures.image("png_rgb.png")))
    }

    static func batcher(_ configuration: BatchingConfiguration, observer: RecordingObserver) -> InferenceBatcher {
        InferenceBatcher(configuration: configuration, metrics: InferenceMetrics(factory: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry())), observer: observer)
    }

    /// Waits for an event, skipping others.
    static func next(_ wanted: RecordingObserver.Event, in events: inout AsyncStream<RecordingObserver.Event>.Iterator) async {
        while let event = await events.next(), event != wanted {}
    }

    @Test func batchesNeverMixEncoders() async throws {
        let a = try Self.encoder("hf-tiny-f32", name: "a"), b = try Self.encoder("hf-tiny-f16", name: "b")
        let pa = try Self.pixels(a), pb = try Self.pixels(b)
        let observer = RecordingObserver()
        let batcher = Self.batcher(BatchingConfiguration(maxBatchSize: 8, maxWaitMilliseconds: 0, maxQueue: 16), observer: observer)
        var events = observer.events.makeAsyncIterator()
        observer.holdNextBatch()
        async let held = batcher.encode([pa], with: a)
        await Self.next(.willRun(size: 1), in: &events)
        async let first = batcher.encode([pa], with: a)
        await Self.next(.queued(images: 1, depth: 1), in: &events)
        async let other = batcher.encode([pb], with: b)
        await Self.next(.queued(images: 1, depth: 2), in: &events)
        async let second = batcher.encode([pa], with: a)
        await Self.next(.queued(images: 1, depth: 3), in: &events)
        observer.releaseHeldBatch()
        let results = try await [held, first, other, second]
        #expect(results.map(\.count) == [1, 1, 1, 1])
        #expect(observer.batches.map { "\($0.model)×\($0.size)" } == ["a×1", "a×2", "b×1"])
        // The same image gives the same features whichever batch it ran in (up to summation order).
        let (x, y) = (results[0][0].features, results[3][0].features)
        #expect(zip(x, y).allSatisfy { abs($0 - $1) < 1e-4 })
        batcher.stop()
    }

    @Test func aCancelledRequestLeavesTheQueue() async throws {
        let a = try Self.encoder("hf-tiny-f32", name: "a")
        let pa = try Self.pixels(a)
        let observer = RecordingObserver()
        let batcher = Self.batcher(BatchingConfiguration(maxBatchSize: 1, maxWaitMilliseconds: 0, maxQueue: 4), observer: observer)
        var events = observer.events.makeAsyncIterator()
        observer.holdNextBatch()
        let held = Task { try await batcher.encode([pa], with: a) }
        await Self.next(.willRun(size: 1), in: &events)
        let waiting = Task { try await batcher.encode([pa, pa], with: a) }
        await Self.next(.queued(images: 2, depth: 2), in: &events)
        #expect(batcher.depth == 2)
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(batcher.depth == 0, "its images left the queue")
        observer.releaseHeldBatch()
        #expect(try await held.value.count == 1)
        #expect(observer.batches.map(\.size) == [1], "the cancelled images were never encoded")
        batcher.stop()
    }

    @Test func stoppingFailsWhatStillWaits() async throws {
        let a = try Self.encoder("hf-tiny-f32", name: "a")
        let pa = try Self.pixels(a)
        let observer = RecordingObserver()
        let batcher = Self.batcher(BatchingConfiguration(maxBatchSize: 1, maxWaitMilliseconds: 0, maxQueue: 4), observer: observer)
        var events = observer.events.makeAsyncIterator()
        observer.holdNextBatch()
        let held = Task { try await batcher.encode([pa], with: a) }
        await Self.next(.willRun(size: 1), in: &events)
        let waiting = Task { try await batcher.encode([pa], with: a) }
        await Self.next(.queued(images: 1, depth: 1), in: &events)
        batcher.stop()
        do {
            _ = try await waiting.value
            Issue.record("a request still queued at shutdown must fail")
        } catch let error as BatcherError {
            #expect(error.apiError.code == "shutting_down")
        }
        observer.releaseHeldBatch()
        #expect(try await held.value.count == 1, "the batch in progress finishes")
        await #expect(throws: BatcherError.self) { try await batcher.encode([pa], with: a) }
    }
}
