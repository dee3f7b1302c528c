import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing
@testable import Server

/// Signed webhooks: the Standard Webhooks signature, the operator-only configuration, and delivery
/// to a local receiver that answers 500 twice and then 200, without holding the job.
@Suite("Webhooks")
struct WebhookTests {
    static let secret = "whsec_" + Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()

    @Test func signatureIsTheStandardWebhooksOne() throws {
        // The test vector of the Standard Webhooks specification.
        let key = try #require(WebhookConfiguration.key(of: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSignature.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                              body: Array(#"{"test": 2432232314}"#.utf8), key: key)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        // RFC 4231 test case 2 for HMAC-SHA256 itself.
        let mac = WebhookSignature.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(mac.map { String(format: "%02x", $0) }.joined() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func endpointsComeOnlyFromTheOperatorsConfigurationAndNeedASecret() throws {
        let folder = try TemporaryFolder()
        let file = folder.url.appendingPathComponent("tagtune.yaml")
        try Data("log:\n  level: info\n".utf8).write(to: file)
        func load(_ flags: [String: String]) throws -> ServerConfiguration {
            try ServerConfiguration.load(file: file.path, environment: [:], flags: flags)
        }
        #expect(try load([:]).webhooks.isEnabled == false)
        #expect(throws: ConfigurationError.self) { try load(["webhooks.endpoints": "http://127.0.0.1:9/hook"]) }
        #expect(throws: ConfigurationError.self) { try load(["webhooks.endpoints": "http://127.0.0.1:9/hook", "webhooks.secret": "whsec_c2hvcnQ="]) }
        #expect(throws: ConfigurationError.self) { try load(["webhooks.endpoints": "file:///etc/passwd", "webhooks.secret": Self.secret]) }
        let configured = try load(["webhooks.endpoints": "http://127.0.0.1:9/a,https://hooks.example/b", "webhooks.secret": Self.secret])
        #expect(configured.webhooks.endpoints == ["http://127.0.0.1:9/a", "https://hooks.example/b"])
        let secretKey = try #require(ConfigurationKey.named("webhooks.secret"))
        #expect(secretKey.display(configured) == "(set, not shown)")
    }

    /// What the receiver saw: each request's headers and body, and the status it answered.
    final class Receiver: Sendable {
        struct Delivery: Sendable {
            let id: String
            let timestamp: String
            let signature: String
            let body: [UInt8]
            let answered: Int
        }
        let deliveries = NIOLockedValueBox<[Delivery]>([])
        /// Answers to the first requests, then 200.
        let script: [Int]
        /// The first request waits until released: the job must finish meanwhile.
        let firstRequestHeld = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let release = AsyncStream<Void>.makeStream()

        init(script: [Int]) { self.script = script }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                let index = self.deliveries.withLockedValue { $0.count }
                if index == 0 { for await _ in self.release.stream { break } }
                let status = index < self.script.count ? self.script[index] : 200
                self.deliveries.withLockedValue {
                    $0.append(Delivery(id: request.headers[HTTPField.Name("webhook-id")!] ?? "",
                                       timestamp: request.headers[HTTPField.Name("webhook-timestamp")!] ?? "",
                                       signature: request.headers[HTTPField.Name("webhook-signature")!] ?? "",
                                       body: Array(body.readableBytesView), answered: status))
                }
                return Response(status: .init(code: status))
            }
            return router
        }
    }

    @Test func deliveriesAreSignedRetriedAndRecordedWithoutHoldingTheJob() async throws {
        let receiver = Receiver(script: [500, 500])
        let hooks = Application(router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await hooks.test(.live) { hookClient in
            let port = try #require(hookClient.port)
            let test = try TuningTestApp(configure: {
                $0.webhooks = WebhookConfiguration(endpoints: ["http://127.0.0.1:\(port)/hook"], secret: Self.secret, maxAttempts: 5,
                                                   initialBackoffSeconds: 0.05, timeoutSeconds: 10)
            })
            try FileManager.default.copyItem(at: try await TagFixtures.promptSetTemplate(),
                                             to: URL(fileURLWithPath: test.configuration.promptSetsDirectory).appendingPathComponent("shapes"))
            try await test.application().test(.router) { client in
                try await client.waitUntilReady()
                let dataset = try await JobRoutesTests.uploadDataset(client, count: 4)
                let (_, batch) = try await client.send(.post, "/v1/batches", json: ["dataset": dataset, "prompt_set": "shapes"])
                let id = try #require(batch["id"] as? String)
                // The first delivery is held by the receiver: the batch is finished all the same.
                let done = try await client.waitForBatch(id)
                #expect(done["status"] as? String == "succeeded")
                #expect(receiver.deliveries.withLockedValue { $0.isEmpty })
                receiver.release.continuation.finish()

                let deadline = ContinuousClock.now + .seconds(60)
                while receiver.deliveries.withLockedValue({ $0.count }) < 3 {
                    try #require(ContinuousClock.now < deadline, "three attempts did not arrive")
                    try await Task.sleep(for: .milliseconds(20))
                }
                let deliveries = receiver.deliveries.withLockedValue { $0 }
                #expect(deliveries.map(\.answered) == [500, 500, 200])
                #expect(Set(deliveries.map(\.id)).count == 1 && deliveries[0].id.hasPrefix("msg_"), "one id over the retries")
                let key = try #require(WebhookConfiguration.key(of: Self.secret))
                for delivery in deliveries {
                    let timestamp = try #require(Int64(delivery.timestamp))
                    #expect(abs(timestamp - Int64(Date().timeIntervalSince1970)) < 300)
                    #expect(delivery.signature == WebhookSignature.sign(id: delivery.id, timestamp: timestamp, body: delivery.body, key: key))
                    #expect(delivery.signature != WebhookSignature.sign(id: delivery.id, timestamp: timestamp + 1, body: delivery.body, key: key))
                }
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(deliveries[2].body)) as? [String: Any])
                #expect(payload["type"] as? String == "batch.succeeded")
                #expect((payload["data"] as? [String: Any])?["id"] as? String == id)
                #expect((payload["data"] as? [String: Any])?["object"] as? String == "batch")

                // Every attempt is an event of the batch.
                var messages: [String] = []
                while !messages.contains(where: { $0.contains("delivered") }) {
                    try #require(ContinuousClock.now < deadline)
                    messages = try await client.allBatchEvents(of: id).compactMap { $0["message"] as? String }
                }
                let attempts = messages.filter { $0.hasPrefix("webhook batch.succeeded") }
                #expect(attempts.count == 3, "\(messages)")
                #expect(attempts.filter { $0.contains("failed: HTTP 500") && $0.contains("next attempt in") }.count == 2)
                #expect(attempts.first?.contains("delivered to http://127.0.0.1:\(port)/hook: HTTP 200 (attempt 3/5") == true)

                // A queued tuning job cancelled at once is announced too.
                let long = try await client.send(.post, "/v1/tuning/jobs", json: JobRoutesTests.longJob(dataset: dataset)).1
                let queued = try await client.send(.post, "/v1/tuning/jobs", json: JobRoutesTests.longJob(dataset: dataset)).1
                let queuedID = try #require(queued["id"] as? String), longID = try #require(long["id"] as? String)
                _ = try await client.send(.post, "/v1/tuning/jobs/\(queuedID)/cancel")
                _ = try await client.send(.post, "/v1/tuning/jobs/\(longID)/cancel")
                while receiver.deliveries.withLockedValue({ $0.count }) < 5 {
                    try #require(ContinuousClock.now < deadline, "the cancellations were not announced")
                    try await Task.sleep(for: .milliseconds(20))
                }
                let types = try receiver.deliveries.withLockedValue { $0 }.dropFirst(3).map {
                    try #require(try JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any])["type"] as? String
                }
                #expect(types == ["tuning.job.cancelled", "tuning.job.cancelled"])

                // Every payload is the document's WebhookEvent (a batch's and a tuning job's).
                let document = try OpenAPIDocumentTests.document()
                let schema = try #require(document["components"]?["schemas"]?["WebhookEvent"])
                for delivery in receiver.deliveries.withLockedValue({ $0 }) {
                    let problems = OpenAPISchemaCheck(document: document).problems(try JSONValue.parse(Data(delivery.body)), schema)
                    #expect(problems.isEmpty, "\(problems)")
                }
            }
        }
    }
}
