import Foundation
import Imaging
import Testing
@testable import CLIP

/// The shipped demo model (demo/model, float16) through the Swift engine against transformers in
/// float32 on the same rounded weights (Tests/Fixtures/demo, scripts/demo/make_demo_reference.py):
/// from the example PNG files to embeddings, and the class prompts.
@Suite("Demo model parity")
struct DemoModelTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map { abs($0) }.max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    @Test func examplesAndPromptsMatchTransformers() throws {
        let model = try CLIPModel(directory: Self.repository.appendingPathComponent("demo/model"))
        let reference = try SafeTensorsFile(url: Self.repository.appendingPathComponent("Tests/Fixtures/demo/reference.safetensors"))
        let examples = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.repository.appendingPathComponent("demo/examples/examples.json"))) as! [String: Any]
        let files = (examples["examples"] as! [[String: Any]]).map { $0["file"] as! String }
        let images = try files.map { try ImageDecoder.decode([UInt8](try Data(contentsOf: Self.repository.appendingPathComponent("demo/examples/\($0)")))) }
        let pixels = images.flatMap { model.preprocess.apply($0) }
        let pixelError = zip(pixels, try reference.floats("image.pixel_values")).map { abs($0 - $1) }.max()!
        #expect(pixelError < 1e-5, "pixels: \(pixelError)")
        let imageError = Self.relativeError(try model.encode(images: images), try reference.floats("image.embeds"))
        #expect(imageError < 1e-4, "image embeddings: \(imageError)")

        let ids = try reference.int64s("text.input_ids"), lengths = try reference.int64s("text.lengths")
        let width = try reference.info("text.input_ids").shape[1]
        let sequences = lengths.enumerated().map { i, n in (0..<Int(n)).map { Int32(ids[i * width + $0]) } }
        let classes = ["circle", "square", "star", "heart", "house", "arrow", "triangle", "cup", "crescent", "ring",
                       "tree", "cross", "hexagon", "key", "bolt", "diamond", "umbrella", "spiral", "bell", "pentagon"]
        #expect(classes.map { model.tokenizer.tokenize("a photo of a \($0).") } == sequences)
        let textError = Self.relativeError(try model.text.encode(tokens: sequences), try reference.floats("text.embeds"))
        #expect(textError < 1e-4, "text embeddings: \(textError)")
        print("demo model parity: pixels \(pixelError), images \(imageError), texts \(textError)")
    }
}
