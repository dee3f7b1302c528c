import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
@testable import Server

/// The batcher groups concurrent requests into one encoder call, refuses work beyond its queue
/// at once, and reports what it does in metrics and `/info`.
@Suite("Tagging batcher")
struct TagBatchingTests {
    @Test func concurrentRequestsShareOneBatch() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        // A batch closes when 4 images wait; the long wait only matters if the requests never all arrive.
        server.configuration.batching = BatchingConfiguration(maxBatchSize: 4, maxWaitMilliseconds: 60_000, maxQueue: 64)
        let observer = RecordingObserver()
        let png = try TagFixtures.image("png_rgb.png"), jpeg = try TagFixtures.image("jpeg_444.jpg")
        let app = try buildApplication(configuration: server.configuration, dependencies: AppDependencies(inferenceObserver: observer),
                                   logger: TagFixtures.logger)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let before = observer.batches.count    // the warm-up's batch
            // (status, batch size the response reports) of four requests sent at once
            let outcomes = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for i in 0..<4 {
                    group.addTask {
                        let response = try await client.tagRaw(i % 2 == 0 ? png : jpeg, type: i % 2 == 0 ? "image/png" : "image/jpeg")
                        let result = (try jsonObject(response)["results"] as? [[String: Any]])?.first
                        return (Int(response.status.code), (result?["timings"] as? [String: Any])?["batch_size"] as? Int)
                    }
                }
                return try await group.reduce(into: [(Int, Int?)]()) { $0.append($1) }
            }
            #expect(outcomes.map(\.0) == [200, 200, 200, 200])
            #expect(outcomes.map(\.1) == [4, 4, 4, 4])
            let batches = Array(observer.batches.dropFirst(before))
            #expect(batches.map(\.size) == [4], "four concurrent requests, one encoder call")
            #expect(batches.first?.requests == 4)
        }
    }

    @Test func aRequestLargerThanABatchIsSplit() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.batching = BatchingConfiguration(maxBatchSize: 4, maxWaitMilliseconds: 0, maxQueue: 64)
        let observer = RecordingObserver()
        let png = try TagFixtures.image("png_rgb.png")
        var form = MultipartBody()
        for i in 0..<6 { form.addFile(name: "images", filename: "\(i).png", type: "image/png", data: png) }
        let six = form.upload
        let app = try buildApplication(configuration: server.configuration, dependencies: AppDependencies(inferenceObserver: observer),
                                   logger: TagFixtures.logger)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let before = observer.batches.count
            let response = try await client.tagMultipart(six)
            #expect(response.status == .ok)
            #expect(Array(observer.batches.dropFirst(before)).map(\.size) == [4, 2])
            let results = try #require(try jsonObject(response)["results"] as? [[String: Any]])
            #expect(results.map { ($0["timings"] as! [String: Any])["batch_size"] as? Int } == [4, 4, 4, 4, 2, 2])
        }
    }

    @Test func aFullQueueIsAnswered429AtOnce() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.batching = BatchingConfiguration(maxBatchSize: 1, maxWaitMilliseconds: 0, maxQueue: 1)
        let observer = RecordingObserver()
        let png = try TagFixtures.image("png_rgb.png")
        let app = try buildApplication(configuration: server.configuration, dependencies: AppDependencies(inferenceObserver: observer),
                                   logger: TagFixtures.logger)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            var events = observer.events.makeAsyncIterator()
            // Skip the warm-up's events.
            while let event = await events.next(), event != .willRun(size: 1) {}

            observer.holdNextBatch()
            async let first = client.tagRaw(png)       // taken by the inference thread and held there
            while let event = await events.next(), event != .willRun(size: 1) {}
            async let second = client.tagRaw(png)      // waits in the queue: it is now full
            while let event = await events.next(), event != .queued(images: 1, depth: 1) {}

            let refused = try await client.tagRaw(png)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "1")
            let error = try TagErrorBody.decode(refused)
            #expect(error.code == "queue_full")
            #expect(error.type == "rate_limit_error")
            #expect(error.message.contains("batching.max_queue = 1"))

            observer.releaseHeldBatch()
            #expect(try await first.status == .ok)
            #expect(try await second.status == .ok)
            #expect(try await client.tagRaw(png).status == .ok, "the queue drained")
        }
    }

    @Test func metricsAndInfoDescribeTheInferencePath() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.batching = BatchingConfiguration(maxBatchSize: 8, maxWaitMilliseconds: 2, maxQueue: 99)
        let registry = PrometheusCollectorRegistry()
        let png = try TagFixtures.image("png_rgb.png")
        let app = try buildApplication(configuration: server.configuration, dependencies: AppDependencies(registry: registry),
                                   logger: TagFixtures.logger)
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            #expect(try await client.tagRaw(png).status == .ok)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            for series in ["tagtune_inference_queue_duration_seconds_bucket", "tagtune_inference_duration_seconds_bucket",
                           "tagtune_inference_batch_size_bucket", "tagtune_inference_queue_depth 0", "tagtune_models_loaded 1",
                           #"tagtune_http_requests_total{route="/v1/tag",method="POST",status="200"} 1"#] {
                #expect(text.contains(series), "\(series)")
            }
            #expect(text.contains("tagtune_inference_batch_size_count 2"), "warm-up and one request")

            let info = try jsonObject(try await client.execute(uri: "/info", method: .get))
            let batching = try #require(info["batching"] as? [String: Any])
            #expect(batching["max_batch_size"] as? Int == 8)
            #expect(batching["max_wait_ms"] as? Double == 2)
            #expect(batching["max_queue"] as? Int == 99)
            let model = try #require(info["model"] as? [String: Any])
            #expect(model["id"] as? String == "tiny")
            #expect(model["prompt_set"] as? String == "shapes")
            #expect(model["dtype"] as? String == "F32")
            #expect(model["image_size"] as? Int == 32)
            #expect(model["loaded"] as? Bool == true)
            #expect((model["weights_sha256"] as? String)?.count == 64)
            #expect(info["ready"] as? Bool == true)
            #expect(info["auth_required"] as? Bool == false)
        }
    }
}
