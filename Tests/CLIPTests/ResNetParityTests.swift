import Foundation
import Imaging
import Testing
@testable import CLIP
import Compute

/// ResNet CLIPs (open_clip's ModifiedResNet) against open_clip on the committed tiny checkpoints
/// (Tests/Fixtures/resnet, made by scripts/fixtures/make_resnet_fixtures.py): random batch-norm
/// statistics, so a fold that is wrong anywhere shows.
@Suite("ResNet CLIP parity with open_clip")
struct ResNetParityTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resnet")

    static func reference(_ folder: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(url: root.appendingPathComponent("\(folder)/reference.safetensors"))
    }

    /// Channels-first [B, C, H, W] → channels-last [B, H, W, C], the engine's layout.
    static func channelsLast(_ x: [Float], shape: [Int]) -> [Float] {
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var y = [Float](repeating: 0, count: x.count)
        for n in 0..<b { for ch in 0..<c { for i in 0..<(h * w) { y[(n * h * w + i) * c + ch] = x[(n * c + ch) * h * w + i] } } }
        return y
    }

    @Test(arguments: ["openclip-rn-tiny-f32", "openclip-rn-tiny-f16", "openclip-rn-tiny-gelu-f32"])
    func embeddingsAndLogitsMatchReference(folder: String) throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent(folder))
        #expect(model.vision is ResNetTower)
        let file = try Self.reference(folder)
        let ids = try file.int64s("text.input_ids"), lengths = try file.int64s("text.lengths")
        let width = try file.info("text.input_ids").shape[1]
        let sequences = lengths.enumerated().map { i, n in (0..<Int(n)).map { Int32(ids[i * width + $0]) } }

        let textFeatures = try model.text.encode(tokens: sequences)
        let textError = CLIPParityTests.relativeError(textFeatures, try file.floats("text.embeds"))
        #expect(textError <= 1e-4, "\(folder) text embeddings: max relative error \(textError)")

        let pixels = try file.floats("image.pixel_values")
        let batch = try file.info("image.pixel_values").shape[0]
        let imageFeatures = try model.encodeImages(pixels: pixels, count: batch)
        let imageError = CLIPParityTests.relativeError(imageFeatures, try file.floats("image.embeds"))
        #expect(imageError <= 1e-4, "\(folder) image embeddings: max relative error \(imageError)")

        let logits = CLIPParityTests.logits(images: imageFeatures, texts: textFeatures,
                                            dim: model.configuration.projectionDim, scale: model.logitScale)
        let logitError = CLIPParityTests.relativeError(logits, try file.floats("logits_per_image"))
        #expect(logitError <= 1e-4, "\(folder) logits: max relative error \(logitError)")
        print("resnet parity \(folder): text \(textError), image \(imageError), logits \(logitError)")
    }

    /// A batch of more images than cores runs in groups of `Convolution.cores` (the last one
    /// smaller): every image still gets the features it gets alone, reference-checked above.
    @Test func aBatchLargerThanTheCoresGivesEachImageItsOwnFeatures() throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent("openclip-rn-tiny-f32"))
        let fixture = try Self.reference("openclip-rn-tiny-f32").floats("image.pixel_values")
        let per = fixture.count / 4, d = model.configuration.projectionDim
        // Every worker's share in groups of `imagesPerWorker` and a last smaller one, and images left
        // over for the split path: 2 workers, 11 images = 2 × (4 + 1) + 1.
        let count = BLAS.threads * (ResNetTower.imagesPerWorker + 1) + 1
        let pixels = (0..<count).flatMap { fixture[((($0 % 4) * per))..<((($0 % 4) + 1) * per)] }
        let together = try model.encodeImages(pixels: pixels, count: count)
        #expect(together.count == count * d)
        for i in 0..<4 {
            let alone = try model.encodeImages(pixels: Array(fixture[(i * per)..<((i + 1) * per)]), count: 1)
            for row in stride(from: i, to: count, by: 4) {
                #expect(CLIPParityTests.relativeError(alone, Array(together[(row * d)..<((row + 1) * d)])) < 1e-5, "image \(row)")
            }
        }
    }

    @Test(arguments: ["openclip-rn-tiny-f32", "openclip-rn-tiny-gelu-f32"])
    func everyStageMatchesReference(folder: String) throws {
        // The stem and each stage's output, so a parity failure names where it starts.
        let model = try CLIPModel(directory: Self.root.appendingPathComponent(folder))
        let tower = try #require(model.vision as? ResNetTower)
        let file = try Self.reference(folder)
        let pixels = try file.floats("image.pixel_values")
        let batch = try file.info("image.pixel_values").shape[0]
        var (x, h, w) = pixels.withUnsafeBufferPointer { tower.stemForward(pixels: $0.baseAddress!, batch: batch) }
        func check(_ key: String) throws {
            let shape = try file.info(key).shape
            #expect(shape == [batch, x.count / (batch * h * w), h, w], "\(folder) \(key) shape")
            let error = CLIPParityTests.relativeError(x.array, Self.channelsLast(try file.floats(key), shape: shape))
            #expect(error <= 1e-5, "\(folder) \(key): max relative error \(error)")
        }
        try check("image.stem")
        for (s, stage) in tower.stages.enumerated() {
            for block in stage {
                x = block.forward(x, batch: batch, height: h, width: w)
                (h, w) = (h / block.stride, w / block.stride)
            }
            try check("image.layer\(s + 1)")
        }
    }

    @Test func packedAndPlainWeightsAgree() throws {
        // Without oneDNN the same tower runs on float32 matrices through OpenBLAS.
        let folder = Self.root.appendingPathComponent("openclip-rn-tiny-gelu-f32")
        let model = try CLIPModel(directory: folder)
        let pixels = try Self.reference("openclip-rn-tiny-gelu-f32").floats("image.pixel_values")
        let packed = try model.encodeImages(pixels: pixels, count: 4)
        let checkpoint = CheckpointFolder.inspect(folder)
        guard case .checkpoint(let found) = checkpoint else { Issue.record("not a checkpoint"); return }
        let (weights, _) = try found.openWeights(in: folder)
        let plainTower = try ResNetTower(loader: WeightLoader(source: weights, layout: .openCLIP),
                                         configuration: model.configuration, packing: nil)
        #expect(plainTower.packedImplementation == nil)
        let plain = pixels.withUnsafeBufferPointer { plainTower.encode(pixels: $0.baseAddress!, batch: 4) }
        #expect(CLIPParityTests.relativeError(plain, packed) < 1e-5)
    }

    @Test func oneImageAloneEqualsItsRowInABatch() throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent("openclip-rn-tiny-f32"))
        let pixels = try Self.reference("openclip-rn-tiny-f32").floats("image.pixel_values")
        let together = try model.encodeImages(pixels: pixels, count: 4)
        let per = pixels.count / 4, d = model.configuration.projectionDim
        for i in 0..<4 {
            let alone = try model.encodeImages(pixels: Array(pixels[(i * per)..<((i + 1) * per)]), count: 1)
            #expect(CLIPParityTests.relativeError(alone, Array(together[(i * d)..<((i + 1) * d)])) < 1e-5)
        }
    }

    @Test(arguments: ["openclip-rn-tiny-f32", "openclip-rn-tiny-gelu-f32"])
    func photosMatchOpenCLIPsPipeline(folder: String) throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent(folder))
        let reference = try SafeTensorsFile(url: Self.root.appendingPathComponent("pipeline.safetensors"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent("pipeline.json"))) as! [String: Any]
        let names = try #require(json["images"] as? [[String: Any]]).compactMap { $0["file"] as? String }
        #expect(names.count >= 3)
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: Self.root.deletingLastPathComponent().appendingPathComponent("images/\(name)")))
            let image = try ImageDecoder.decode(bytes)
            let pixelError = zip(model.preprocess.apply(image), try reference.floats("\(name).\(folder).pixels")).map { abs($0 - $1) }.max()!
            #expect(pixelError < 1e-5, "\(name): max pixel difference \(pixelError)")
            let cosine = ImagePipelineParityTests.cosine(try model.encode(images: [image]), try reference.floats("\(name).\(folder).embeds"))
            #expect(cosine >= 0.999, "\(name) \(folder): cosine \(cosine)")
        }
    }

    // MARK: - Configurations

    /// open_clip's model configurations (open_clip/model_configs/RN*.json): vision width, blocks,
    /// image size and embed dim, text width and heads.
    static let openCLIPConfigs: [(name: String, json: String, heads: Int, grid: Int)] = [
        ("RN50", #"{"embed_dim":1024,"vision_cfg":{"image_size":224,"layers":[3,4,6,3],"width":64,"patch_size":null},"text_cfg":{"context_length":77,"vocab_size":49408,"width":512,"heads":8,"layers":12}}"#, 32, 7),
        ("RN101", #"{"embed_dim":512,"vision_cfg":{"image_size":224,"layers":[3,4,23,3],"width":64,"patch_size":null},"text_cfg":{"context_length":77,"vocab_size":49408,"width":512,"heads":8,"layers":12}}"#, 32, 7),
        ("RN50x4", #"{"embed_dim":640,"vision_cfg":{"image_size":288,"layers":[4,6,10,6],"width":80,"patch_size":null},"text_cfg":{"context_length":77,"vocab_size":49408,"width":640,"heads":10,"layers":12}}"#, 40, 9),
        ("RN50x16", #"{"embed_dim":768,"vision_cfg":{"image_size":384,"layers":[6,8,18,8],"width":96,"patch_size":null},"text_cfg":{"context_length":77,"vocab_size":49408,"width":768,"heads":12,"layers":12}}"#, 48, 12),
        ("RN50x64", #"{"embed_dim":1024,"vision_cfg":{"image_size":448,"layers":[3,15,36,10],"width":128,"patch_size":null},"text_cfg":{"context_length":77,"vocab_size":49408,"width":1024,"heads":16,"layers":12}}"#, 64, 14),
    ]

    @Test func openCLIPsResNetConfigurationsAreRead() throws {
        for config in Self.openCLIPConfigs {
            let model = try JSONSerialization.jsonObject(with: Data(config.json.utf8)) as! [String: Any]
            let parsed = try CLIPConfiguration.openCLIP(json: ["model_cfg": model])
            let vision = model["vision_cfg"] as! [String: Any]
            let resnet = try #require(parsed.resnet, "\(config.name)")
            #expect(resnet.blocks == vision["layers"] as! [Int], "\(config.name)")
            #expect(resnet.width == vision["width"] as! Int)
            #expect(resnet.heads == config.heads, "\(config.name): heads = width·32/64")
            #expect(resnet.embedWidth == 32 * resnet.width)
            #expect(parsed.imageSize == vision["image_size"] as! Int)
            #expect(parsed.patchesPerSide == config.grid, "\(config.name): attention pool grid")
            #expect(parsed.projectionDim == model["embed_dim"] as! Int)
            #expect(parsed.text.width == (model["text_cfg"] as! [String: Any])["width"] as! Int)
        }
    }

    @Test func otherImageTowersAreRefusedByName() throws {
        func refusal(_ vision: String) -> String? {
            let json = #"{"embed_dim":32,"vision_cfg":\#(vision),"text_cfg":{"width":64,"heads":4,"layers":2}}"#
            let model = try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
            do { _ = try CLIPConfiguration.openCLIP(json: ["model_cfg": model]); return nil } catch { return "\(error)" }
        }
        #expect(refusal(#"{"timm_model_name":"convnext_base","image_size":224}"#)?.contains("timm_model_name") == true)
        #expect(refusal(#"{"layers":[3,4,6],"width":64,"image_size":224}"#)?.contains("four positive block counts") == true)
        #expect(refusal(#"{"layers":[3,4,6,3],"width":64,"image_size":200}"#)?.contains("multiple of 32") == true)
        #expect(refusal(#"{"layers":[3,4,6,3],"width":64,"head_width":48,"image_size":224}"#)?.contains("head_width") == true)
        #expect(refusal(#"{"layers":[3,4,6,3],"width":64,"image_size":224}"#) == nil)
    }

    @Test func aBrokenBatchNormIsNamed() throws {
        // A checkpoint missing one batch norm statistic is refused with the tensor's name.
        let source = Self.root.appendingPathComponent("openclip-rn-tiny-f32")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("rn-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: copy) }
        for name in ["open_clip_config.json", "vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        let file = try SafeTensorsFile(url: source.appendingPathComponent("open_clip_model.safetensors"))
        var writer = SafeTensorsWriter()
        for name in file.names where name != "visual.layer3.0.bn2.running_var" && !name.hasSuffix("num_batches_tracked") {
            try writer.add(name, floats: try file.floats(name), shape: try file.info(name).shape)
        }
        try writer.write(to: copy.appendingPathComponent("open_clip_model.safetensors"))
        #expect { try CLIPModel(directory: copy) } throws: { "\($0)".contains("visual.layer3.0.bn2.running_var") }
    }
}
