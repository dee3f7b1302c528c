import CLIP
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Tuning
@testable import Server

/// `prompt_set.json` records the SHA-256 of `prompts.safetensors` when a prompt set is written; a
/// load refuses tensors that are not those bytes (the probe's garbled tensors were served silently
/// with different scores). Prompt sets written before the digest was recorded still load.
@Suite("Prompt-set integrity")
struct PromptSetIntegrityTests {
    /// A copy of the tuned template prompt set in a temporary folder.
    static func copyOfTemplate() async throws -> URL {
        let copy = TagFixtures.temporaryFolder("integrity").appendingPathComponent("shapes")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: try await TagFixtures.promptSetTemplate(), to: copy)
        return copy
    }

    /// Flips the lowest bit of the first value of `class_features` (still a finite number, so
    /// only the digest can tell).
    static func garbleOneByte(of tensors: URL) throws {
        var bytes = [UInt8](try Data(contentsOf: tensors))
        let headerLength = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        let features = try #require(header["class_features"] as? [String: Any])
        let start = 8 + headerLength + (try #require((features["data_offsets"] as? [Int])?.first))
        bytes[start] ^= 0x01
        try Data(bytes).write(to: tensors)
    }

    @Test func writtenPromptSetsRecordTheirTensorsDigest() async throws {
        let folder = try await Self.copyOfTemplate()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let manifest = try PromptSetFolder.manifestDecoder.decode(
            PromptSetManifest.self, from: Data(contentsOf: folder.appendingPathComponent(PromptSet.manifestFile)))
        let digest = try SHA256.hex(files: [folder.appendingPathComponent(PromptSet.tensorsFile)])
        #expect(manifest.filesSHA256 == [PromptSet.tensorsFile: digest])
        #expect(manifest.format == "tagtune.prompt_set.v1", "the format string is unchanged: the field is optional")
        #expect(try PromptSet.load(from: folder).manifest.filesSHA256 == manifest.filesSHA256)
    }

    @Test func garbledTensorBytesAreRefusedAtLoad() async throws {
        let folder = try await Self.copyOfTemplate()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        try Self.garbleOneByte(of: folder.appendingPathComponent(PromptSet.tensorsFile))
        #expect {
            try PromptSet.load(from: folder)
        } throws: { error in
            "\(error)".contains("SHA-256") && "\(error)".contains(PromptSet.tensorsFile)
        }
    }

    /// A prompt set written before the digest was recorded loads, unchecked.
    @Test func promptSetsWithoutADigestStillLoad() async throws {
        let folder = try await Self.copyOfTemplate()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let manifestURL = folder.appendingPathComponent(PromptSet.manifestFile)
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any])
        #expect(manifest.removeValue(forKey: "files_sha256") != nil, "the template records its digest")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
        let set = try PromptSet.load(from: folder)
        #expect(set.manifest.filesSHA256 == nil)
        #expect(!set.manifest.classes.isEmpty)
    }

    /// The shipped demo prompt set records its digest, and it holds.
    @Test func theDemoPromptSetIsChecked() throws {
        let set = try PromptSet.load(from: TagFixtures.repository.appendingPathComponent("demo/prompt-set"))
        #expect(set.manifest.filesSHA256?[PromptSet.tensorsFile] != nil)
    }

    /// Through the server: garbled tensors under a running server are 409 `prompt_set_unusable`;
    /// a PATCH of thresholds keeps the digest, and the prompt set stays usable.
    @Test func garbledTensorsAreRefusedByTheServerAndPatchKeepsTheDigest() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        let folder = server.promptSetsFolder.appendingPathComponent("shapes")
        try await server.withReadyClient { client async throws in
            let patched = try await client.execute(uri: "/v1/prompt-sets/shapes", method: .patch, headers: [.contentType: "application/json"],
                                                   body: ByteBuffer(string: #"{"thresholds": {"cat": 0.4}}"#))
            #expect(patched.status == .ok, "\(String(buffer: patched.body))")
            let manifest = try PromptSetFolder.manifestDecoder.decode(
                PromptSetManifest.self, from: Data(contentsOf: folder.appendingPathComponent(PromptSet.manifestFile)))
            #expect(manifest.filesSHA256?[PromptSet.tensorsFile] != nil)
            #expect(try await client.tagRaw(png, query: "prompt_set=shapes").status == .ok)

            try Self.garbleOneByte(of: folder.appendingPathComponent(PromptSet.tensorsFile))
            let refused = try await client.tagRaw(png, query: "prompt_set=shapes")
            #expect(refused.status == .conflict, "\(String(buffer: refused.body))")
            let error = try TagErrorBody.decode(refused)
            #expect(error.code == "prompt_set_unusable")
            #expect(error.message.contains("SHA-256"), "\(error.message)")
        }
    }
}
