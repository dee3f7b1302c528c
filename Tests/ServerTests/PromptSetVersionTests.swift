import CLIP
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
@testable import Server

/// Versions of a prompt set: its `ETag` (the SHA-256 of its manifest), `If-Match` on `PATCH` (412
/// on a stale version, nothing changed), and, with PostgreSQL, the catalog every replica mirrors:
/// compare-and-swap edits, defaults, publication with the job's success, and the sync.
@Suite("Prompt set versions")
struct PromptSetVersionTests {
    static func patch(_ client: some TestClientProtocol, _ body: String, ifMatch: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let ifMatch { headers[.ifMatch] = ifMatch }
        return try await client.execute(uri: "/v1/prompt-sets/shapes", method: .patch, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func patchWithAStaleIfMatchIsRefusedAndChangesNothing() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let original = try server.manifestData("shapes")
        try await server.withReadyClient { client async throws in
            let read = try await client.execute(uri: "/v1/prompt-sets/shapes", method: .get)
            let etag = try #require(read.headers[.eTag])
            #expect(etag == "\"\(SHA256.hex(original))\"", "the ETag is the manifest's SHA-256")

            let first = try await Self.patch(client, #"{"thresholds": {"dog": 0.3}}"#, ifMatch: etag)
            #expect(first.status == .ok, "\(String(buffer: first.body))")
            let newer = try #require(first.headers[.eTag])
            let written = try server.manifestData("shapes")
            #expect(newer != etag && newer == "\"\(SHA256.hex(written))\"")
            #expect(try await client.execute(uri: "/v1/prompt-sets/shapes", method: .get).headers[.eTag] == newer)

            // A second client still holding the first version loses the race: 412, the current ETag, nothing written.
            let edited = try server.manifestData("shapes")
            for stale in [etag, "W/\(newer)", "\"nonsense\""] {
                let refused = try await Self.patch(client, #"{"thresholds": {"dog": 0.9}}"#, ifMatch: stale)
                #expect(refused.status == .preconditionFailed, "\(stale): \(String(buffer: refused.body))")
                #expect(try TagErrorBody.decode(refused).code == "precondition_failed")
                #expect(refused.headers[.eTag] == newer)
                #expect(try server.manifestData("shapes") == edited)
            }
            // `*`, a list naming the current tag, and no If-Match at all are accepted.
            #expect(try await Self.patch(client, #"{"thresholds": {"dog": 0.4}}"#, ifMatch: "*").status == .ok)
            let current = try #require(try await client.execute(uri: "/v1/prompt-sets/shapes", method: .get).headers[.eTag])
            #expect(try await Self.patch(client, #"{"thresholds": {"dog": 0.5}}"#, ifMatch: "\"x\", \(current)").status == .ok)
            #expect(try await Self.patch(client, #"{"thresholds": {"dog": 0.6}}"#, ifMatch: nil).status == .ok)
        }
    }

    // MARK: The catalog (PostgreSQL)

    static func files(_ manifest: String, tensors: String = "tensors") -> PromptSetFiles {
        PromptSetFiles(manifest: Data(manifest.utf8), tensors: Data(tensors.utf8))
    }

    @Test func catalogSwapsManifestsOnlyFromTheVersionRead() async throws {
        try await StoreBackend.postgres.withStore { store in
            let catalog = try #require(store as? PostgresStore)
            #expect(try await catalog.publishIfAbsent(id: "ps-a", files: Self.files("one")))
            #expect(try await catalog.publishIfAbsent(id: "ps-a", files: Self.files("other")) == false, "the first copy wins")
            let v1 = try #require(try await catalog.promptSetVersions()["ps-a"])
            #expect(v1.version == 1 && v1.manifestSHA256 == SHA256.hex(Data("one".utf8)))

            let swapped = try await catalog.replaceManifest(id: "ps-a", with: Data("two".utf8), expected: v1.manifestSHA256)
            guard case .replaced(let v2) = swapped else { Issue.record("\(swapped)"); return }
            #expect(v2.version == 2 && v2.tensorsSHA256 == v1.tensorsSHA256)
            // A writer that read version 1 is refused, told the current digest.
            #expect(try await catalog.replaceManifest(id: "ps-a", with: Data("three".utf8), expected: v1.manifestSHA256)
                    == .stale(current: v2.manifestSHA256))
            #expect(try await catalog.replaceManifest(id: "ps-zz", with: Data("x".utf8), expected: "y") == .notFound)
            #expect(try await catalog.promptSet(id: "ps-a")?.files == Self.files("two"))

            try await catalog.setModelDefault(model: "tiny", promptSetID: "ps-a")
            #expect(try await catalog.modelDefaults() == ["tiny": "ps-a"])
            await #expect(throws: (any Error).self, "a default must name a stored prompt set") {
                try await catalog.setModelDefault(model: "tiny", promptSetID: "ps-missing")
            }
        }
    }

    @Test func aJobPublishesItsPromptSetOnlyWhileItHoldsItsLease() async throws {
        try await StoreBackend.postgres.withStore { store in
            let catalog = try #require(store as? PostgresStore)
            _ = try await store.createJob(try StoreTests.job("ftjob-a"), datasets: [], event: .message("created"))
            let zombie = try await StoreContractTests.claim(store, "r1", lease: 0.2)
            try await Task.sleep(for: .milliseconds(400))
            let heir = try await StoreContractTests.claim(store, "r2")
            await #expect(throws: LeaseLost.self) {
                try await store.completeJob(zombie.lease, promptSetID: "ps-a", files: Self.files("zombie"), event: .message("done")) { _ in }
            }
            #expect(try await catalog.promptSet(id: "ps-a") == nil, "a fenced-out owner publishes nothing")
            let done = try await store.completeJob(heir.lease, promptSetID: "ps-a", files: Self.files("heir"), event: .message("done")) { _ in }
            #expect(done.status == .succeeded)
            #expect(try await catalog.promptSet(id: "ps-a")?.files == Self.files("heir"))
            let events = try #require(try await store.events(jobID: "ftjob-a", after: nil, limit: 10)).items
            #expect(events.first?.attempt == 2 && events.first?.replica == "r2", "the success is signed by the heir's lease")
        }
    }

    /// Two replicas over one catalog: what one publishes, edits or chooses as default, the other's
    /// sync writes into its folder, and its registry then serves it with the same ETag.
    @Test func aSecondReplicaMirrorsPublicationsEditsAndDefaults() async throws {
        let first = try await TagTestServer(promptSets: ["shapes"])
        let second = try await TagTestServer(promptSets: [])
        defer { first.remove(); second.remove() }
        try await StoreBackend.postgres.withStore { store in
            let catalog = try #require(store as? PostgresStore)
            func replica(_ server: TagTestServer) -> (ModelRegistry, PromptSetSync) {
                let registry = RegistryTests.registry(server)
                registry.catalogLink.connect(catalog)
                return (registry, PromptSetSync(catalog: catalog, registry: registry, sweepSeconds: 30, logger: TagFixtures.logger))
            }
            let (one, oneSync) = replica(first)
            let (two, twoSync) = replica(second)
            try await oneSync.publishLocal()
            try await twoSync.publishLocal()
            try await twoSync.sync()
            #expect(try await two.etag(ofPromptSet: "shapes") == (try await one.etag(ofPromptSet: "shapes")))
            #expect(try await two.promptSet(id: "shapes").promptSet.manifest.thresholds == [0.5, 0.5, 0.5])

            // An edit on the first replica, then a stale one on the second (its copy still at the old version).
            let before = try await one.etag(ofPromptSet: "shapes")
            let patch = try JSONDecoder().decode(PromptSetPatch.self, from: Data(#"{"thresholds": {"dog": 0.2}, "default": true}"#.utf8))
            let (_, after) = try await one.update(promptSet: "shapes", with: patch, ifMatch: before)
            await #expect(throws: RegistryError.self) { try await two.update(promptSet: "shapes", with: patch, ifMatch: before) }
            try await twoSync.sync()
            #expect(try await two.etag(ofPromptSet: "shapes") == after)
            #expect(try await two.promptSet(id: "shapes").promptSet.manifest.thresholds == [0.5, 0.2, 0.5])
            #expect(try await two.defaultPromptSetID(forModel: "tiny") == "shapes")
            // Without If-Match the second replica's edit applies to the current version, not its copy's.
            let other = try JSONDecoder().decode(PromptSetPatch.self, from: Data(#"{"thresholds": {"cat": 0.7}}"#.utf8))
            _ = try await two.update(promptSet: "shapes", with: other)
            try await oneSync.sync()
            #expect(try await one.promptSet(id: "shapes").promptSet.manifest.thresholds == [0.7, 0.2, 0.5])
        }
    }
}
