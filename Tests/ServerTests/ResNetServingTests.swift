import CLIP
import Compute
import Foundation
import Hummingbird
import HummingbirdTesting
import Imaging
import Testing
import Tuning
@testable import Server

/// A ResNet CLIP through the whole HTTP API, as a ViT goes: listed with its tower, a dataset tuned
/// into a prompt set by a job, and images tagged with that prompt set, scores equal to the engine's.
@Suite("ResNet model served")
struct ResNetServingTests {
    static let checkpoint = DatasetFixtures.fixtures.appendingPathComponent("resnet/openclip-rn-tiny-f32")

    @Test func aResNetPromptSetTunesAndServes() async throws {
        let folder = try TemporaryFolder()
        let models = folder.url.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: models.appendingPathComponent("rn"), withDestinationURL: Self.checkpoint)
        let test = try TuningTestApp(folder: folder, configure: { $0.registry.defaultModel = "rn" })
        try await test.application().test(.router) { client in
            let (_, list) = try await client.send(.get, "/v1/models")
            let entry = try #require((list["data"] as? [[String: Any]])?.first { $0["id"] as? String == "rn" }, "\(list)")
            #expect(entry["image_size"] as? Int == 64)

            let dataset = try await JobRoutesTests.uploadDataset(client)
            var body = JobRoutesTests.job(dataset: dataset, epochs: 2, extra: ["method": "lmpt", "suffix": "rn"])
            body["model"] = "rn"
            let (status, created) = try await client.send(.post, "/v1/tuning/jobs", json: body)
            #expect(status == .created, "\(created)")
            let id = try #require(created["id"] as? String)
            let done = try await client.waitForJob(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            let promptSet = try #require(done["prompt_set"] as? String)

            // Tag with it, and compare with the engine and the prompt set used directly.
            let png = try DatasetFixtures.image(DatasetFixtures.imageNames[0])
            let response = try await client.tagRaw([UInt8](png), type: "image/png", query: "model=rn&prompt_set=\(promptSet)")
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let tagged = try jsonObject(response)
            #expect(tagged["model"] as? String == "rn" && tagged["prompt_set"] as? String == promptSet)
            let labels = try #require((tagged["results"] as? [[String: Any]])?.first?["labels"] as? [[String: Any]])
            #expect(Set(labels.compactMap { $0["label"] as? String }) == Set(DatasetFixtures.classes))

            let model = try CLIPModel(directory: Self.checkpoint)
            let set = try PromptSet.load(from: test.backend.layout.promptSet(promptSet), for: model)
            let features = L2Normalize.rows(try model.encode(images: [try ImageDecoder.decode([UInt8](png))]),
                                            width: model.configuration.projectionDim)
            let expected = Dictionary(uniqueKeysWithValues: zip(set.manifest.classes, set.scores(imageFeatures: features, logitScale: model.logitScale)))
            for label in labels {
                let name = try #require(label["label"] as? String), score = try #require(label["score"] as? Double)
                #expect(abs(Float(score) - expected[name]!) < 1e-4, "\(name): served \(score), engine \(expected[name]!)")
            }
        }
    }
}
