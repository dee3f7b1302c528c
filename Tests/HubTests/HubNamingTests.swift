import Foundation
import Testing
@testable import Hub

/// Repository names, endpoints and URLs as the hub spells them.
@Suite("Hub names and URLs")
struct HubNamingTests {
    @Test(arguments: [("openai/clip-vit-base-patch32", "openai--clip-vit-base-patch32"),
                      ("laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "laion--CLIP-ViT-B-32-laion2B-s34B-b79K"),
                      ("timm/vit_base_patch16_clip_224.openai", "timm--vit_base_patch16_clip_224.openai")])
    func validNamesMakeOrgDashDashNameFolders(name: String, folder: String) throws {
        let id = try HubRepositoryID(name)
        #expect(id.folderName == folder)
        #expect(id.description == name)
    }

    @Test(arguments: ["", "/", "a/b/c", "../x", "org/..", "org/na--me", "org/name with space", "org/.hidden", "org/name-",
                      "org/" + String(repeating: "a", count: 97), "ørg/name"])
    func invalidNamesAreRefused(name: String) {
        #expect(throws: HubError.self) { try HubRepositoryID(name) }
    }

    @Test func endpointComesFromTheFlagThenHFEndpointThenTheHub() throws {
        #expect(try HubEndpoint.resolve(explicit: nil, environment: [:]).url == "https://huggingface.co")
        #expect(try HubEndpoint.resolve(explicit: nil, environment: ["HF_ENDPOINT": "https://hf-mirror.example/"]).url
                == "https://hf-mirror.example")
        #expect(try HubEndpoint.resolve(explicit: "http://127.0.0.1:9000", environment: ["HF_ENDPOINT": "https://hf-mirror.example"]).url
                == "http://127.0.0.1:9000")
        #expect(try HubEndpoint.resolve(explicit: nil, environment: ["HF_TOKEN": "hf_abc"]).token == "hf_abc")
        #expect(try HubEndpoint.resolve(explicit: nil, environment: ["HF_TOKEN": ""]).token == nil)
        #expect(throws: HubError.invalidEndpoint("ftp://example.com")) { try HubEndpoint("ftp://example.com") }
        #expect(throws: HubError.self) { try HubEndpoint("huggingface.co") }
    }

    @Test func urlsFollowTheHubLayout() throws {
        let hub = try HubEndpoint("https://huggingface.co")
        let id = try HubRepositoryID("openai/clip-vit-base-patch32")
        #expect(hub.modelInfoURL(id, revision: "main") == "https://huggingface.co/api/models/openai/clip-vit-base-patch32/revision/main?blobs=true")
        #expect(hub.modelInfoURL(id, revision: "refs/pr/1") == "https://huggingface.co/api/models/openai/clip-vit-base-patch32/revision/refs%2Fpr%2F1?blobs=true")
        #expect(hub.fileURL(id, revision: "3d74acf9", path: "onnx/model file.onnx")
                == "https://huggingface.co/openai/clip-vit-base-patch32/resolve/3d74acf9/onnx/model%20file.onnx")
    }

    @Test func etagsAndRangesAreRead() {
        #expect(FileTransfer.normalizedEtag(#"W/"abc""#) == "abc")
        #expect(FileTransfer.normalizedEtag(#""0123""#) == "0123")
        #expect(FileTransfer.rangeStart("bytes 100-199/200") == 100)
        #expect(FileTransfer.rangeStart("bytes */200") == nil)
        #expect(ByteCount.text(999) == "999 B")
        #expect(ByteCount.text(605_157_000) == "605.2 MB")
    }
}
