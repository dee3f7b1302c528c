import Foundation
import Imaging
import Testing
@testable import CLIP

/// Real photographs from file bytes to embeddings, against the Hugging Face (PIL) and open_clip
/// (torchvision) pipelines (Tests/Fixtures/clip/pipeline.safetensors, scripts/fixtures/make_pipeline_fixtures.py).
@Suite("Image pipeline parity")
struct ImagePipelineParityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func images() throws -> [String] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("clip/pipeline.json"))) as! [String: Any]
        return (json["images"] as! [[String: Any]]).map { $0["file"] as! String }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        return dot / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
    }

    @Test(arguments: [("hf-tiny-f32", "hf"), ("openclip-tiny-f32", "openclip")])
    func photosMatchTheReferencePipeline(folder: String, key: String) throws {
        let model = try CLIPModel(directory: Self.fixtures.appendingPathComponent("clip/\(folder)"))
        let reference = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("clip/pipeline.safetensors"))
        let names = try Self.images()
        #expect(names.count >= 3)
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("images/\(name)")))
            let image = try ImageDecoder.decode(bytes)
            let pixels = model.preprocess.apply(image)
            let expectedPixels = try reference.floats("\(name).\(key).pixels")
            let pixelError = zip(pixels, expectedPixels).map { abs($0 - $1) }.max()!
            #expect(pixelError < 1e-5, "\(name) \(key): max pixel difference \(pixelError)")

            let embedding = try model.encode(images: [image])
            let expected = try reference.floats("\(name).\(key).embeds")
            let cosine = Self.cosine(embedding, expected)
            #expect(cosine >= 0.9999, "\(name) \(key): cosine \(cosine)")
            print("pipeline \(folder) \(name): max pixel diff \(pixelError), cosine \(cosine)")
        }
    }
}
