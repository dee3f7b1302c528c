import Foundation
import Testing
@testable import CLIP
import Compute

/// The towers against transformers and open_clip on the committed tiny checkpoints
/// (Tests/Fixtures/clip, made by scripts/fixtures/make_clip_fixtures.py).
@Suite("CLIP parity with PyTorch")
struct CLIPParityTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clip")

    struct Reference {
        let file: SafeTensorsFile
        init(_ folder: String) throws { file = try SafeTensorsFile(url: root.appendingPathComponent("\(folder)/reference.safetensors")) }
        func floats(_ name: String) throws -> [Float] { try file.floats(name) }
        func shape(_ name: String) throws -> [Int] { try file.info(name).shape }

        /// The reference token sequences, cut at their lengths (SOT … EOT, no padding).
        func sequences() throws -> [[Int32]] {
            let ids = try file.int64s("text.input_ids"), lengths = try file.int64s("text.lengths")
            let width = try shape("text.input_ids")[1]
            return lengths.enumerated().map { i, n in (0..<Int(n)).map { Int32(ids[i * width + $0]) } }
        }
    }

    /// max |a − b| / max |b|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "\(a.count) vs \(b.count)")
        let scale = max(b.map { abs($0) }.max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    static func logits(images: [Float], texts: [Float], dim: Int, scale: Float) -> [Float] {
        func normalized(_ v: [Float]) -> [[Float]] {
            stride(from: 0, to: v.count, by: dim).map { start in
                let row = Array(v[start..<(start + dim)])
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return row.map { $0 / norm }
            }
        }
        let a = normalized(images), b = normalized(texts)
        return a.flatMap { x in b.map { y in scale * zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } } }
    }

    @Test(arguments: ["hf-tiny-f32", "hf-tiny-sharded", "openclip-tiny-f32", "openclip-tiny-gelu-f32", "hf-tiny-f16", "hf-tiny-bf16", "openclip-standard-vocab-f16"])
    func embeddingsAndLogitsMatchReference(folder: String) throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent(folder))
        let reference = try Reference(folder)

        let sequences = try reference.sequences()
        let textFeatures = try model.text.encode(tokens: sequences)
        let textError = Self.relativeError(textFeatures, try reference.floats("text.embeds"))
        #expect(textError <= 1e-4, "\(folder) text embeddings: max relative error \(textError)")

        let pixels = try reference.floats("image.pixel_values")
        let batch = try reference.shape("image.pixel_values")[0]
        let imageFeatures = try model.encodeImages(pixels: pixels, count: batch)
        let imageError = Self.relativeError(imageFeatures, try reference.floats("image.embeds"))
        #expect(imageError <= 1e-4, "\(folder) image embeddings: max relative error \(imageError)")

        let logits = Self.logits(images: imageFeatures, texts: textFeatures, dim: model.configuration.projectionDim, scale: model.logitScale)
        let logitError = Self.relativeError(logits, try reference.floats("logits_per_image"))
        #expect(logitError <= 1e-4, "\(folder) logits: max relative error \(logitError)")
        print("parity \(folder): text \(textError), image \(imageError), logits \(logitError)")
    }

    @Test func bothLayoutsOfTheSameWeightsGiveIdenticalOutputs() throws {
        let hf = try CLIPModel(directory: Self.root.appendingPathComponent("hf-tiny-f32"))
        let oc = try CLIPModel(directory: Self.root.appendingPathComponent("openclip-tiny-f32"))
        #expect(hf.configuration.layout == .huggingFace)
        #expect(oc.configuration.layout == .openCLIP)
        let sequences = try Reference("hf-tiny-f32").sequences()
        #expect(try hf.text.encode(tokens: sequences) == oc.text.encode(tokens: sequences))
        let pixels = try Reference("hf-tiny-f32").floats("image.pixel_values")
        #expect(try hf.encodeImages(pixels: pixels, count: 4) == oc.encodeImages(pixels: pixels, count: 4))
        #expect(hf.logitScale == oc.logitScale)
    }

    @Test func tokenizerOfTheCheckpointGivesTheReferenceIDs() throws {
        for folder in ["hf-tiny-f32", "openclip-tiny-gelu-f32", "openclip-standard-vocab-f16"] {
            let model = try CLIPModel(directory: Self.root.appendingPathComponent(folder))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent("\(folder)/reference.json"))) as! [String: Any]
            let texts = json["texts"] as! [String]
            let expected = try Reference(folder).sequences()
            #expect(texts.map { model.tokenizer.tokenize($0, contextLength: model.configuration.contextLength) } == expected, "\(folder)")
        }
    }

    @Test func batchingAndCuttingAtEOTChangeNothing() throws {
        // One sequence alone (run to its own length) equals the same sequence inside a padded batch.
        let model = try CLIPModel(directory: Self.root.appendingPathComponent("hf-tiny-f32"))
        let sequences = try Reference("hf-tiny-f32").sequences()
        let together = try model.text.encode(tokens: sequences)
        let d = model.configuration.projectionDim
        for (i, ids) in sequences.enumerated() {
            let alone = try model.text.encode(tokens: [ids])
            #expect(Self.relativeError(alone, Array(together[(i * d)..<((i + 1) * d)])) < 1e-5)
        }
    }

    @Test func lastLayerForTheReadOutRowsAloneEqualsTheFullLayer() throws {
        // Both towers run their last layer only where it is read (class token, EOT); on random
        // streams that must equal those rows of the full forward, causal or not.
        let model = try CLIPModel(directory: Self.root.appendingPathComponent("openclip-tiny-gelu-f32"))
        var random = SplitMix64(seed: 7)
        let vit = try #require(model.vision as? VisionTower)
        for (stack, causal) in [(vit.transformer, false), (model.text.transformer, true)] {
            let (batch, tokens, width) = (3, 9, stack.configuration.width)
            let input = (0..<(batch * tokens * width)).map { _ in random.nextGaussian() }
            var full = input, readOut = input
            let rows = [0, 8, 4]
            full.withUnsafeMutableBufferPointer { stack.forward($0.baseAddress!, batch: batch, tokens: tokens, causal: causal) }
            readOut.withUnsafeMutableBufferPointer {
                stack.forward($0.baseAddress!, batch: batch, tokens: tokens, causal: causal, readOut: rows)
            }
            for (b, row) in rows.enumerated() {
                let range = ((b * tokens + row) * width)..<((b * tokens + row + 1) * width)
                let error = Self.relativeError(Array(readOut[range]), Array(full[range]))
                #expect(error < 1e-5, "causal \(causal), sequence \(b): max relative error \(error)")
            }
        }
    }

    @Test func configurationIsReadFromEachLayout() throws {
        let gelu = try CLIPModel(directory: Self.root.appendingPathComponent("openclip-tiny-gelu-f32"))
        #expect(gelu.configuration.text.activation == .gelu)
        #expect(gelu.configuration.vision.heads == 3)
        #expect(gelu.configuration.vision.mlpWidth == 144)   // mlp_ratio 3
        #expect(gelu.preprocess.mean == [0.485, 0.456, 0.406])
        let hf = try CLIPModel(directory: Self.root.appendingPathComponent("hf-tiny-f32"))
        #expect(hf.configuration.text.activation == .quickGELU)
        #expect(hf.configuration.pooling == .firstEOS)
        #expect(hf.configuration.eosTokenID == Int(hf.tokenizer.endTokenID))
        #expect(hf.preprocess.cropSize == 32)
    }
}

@Suite("Weights digest")
struct WeightsDigestTests {
    @Test func digestIsSHA256OfTheWeightFiles() throws {
        let folder = CLIPParityTests.root.appendingPathComponent("hf-tiny-f32")
        let model = try CLIPModel(directory: folder)
        let digest = try model.weightsDigest()
        #expect(digest.count == 64)
        #expect(digest == SHA256.hex(try Data(contentsOf: folder.appendingPathComponent("model.safetensors"))))
        #expect(try model.weightsDigest() == digest)
        // Known answer: SHA-256("abc").
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let sharded = try CLIPModel(directory: CLIPParityTests.root.appendingPathComponent("hf-tiny-sharded"))
        #expect(sharded.weightFiles.count >= 2)
        #expect(try sharded.weightsDigest() != digest)
    }
}
