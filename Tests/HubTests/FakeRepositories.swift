import CLIP
import Foundation

/// Repositories for the fake hub, made from the committed tiny checkpoints (Tests/Fixtures/clip),
/// with the extra files real CLIP repositories carry (PyTorch and other frameworks' weights, a
/// README, `.gitattributes`) that a pull must leave alone.
enum FakeRepositories {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clip")

    static func bytes(_ folder: String, _ name: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: fixtures.appendingPathComponent("\(folder)/\(name)").path)!)
    }

    /// The ResNet CLIP fixtures (Tests/Fixtures/resnet).
    static let resnetFixtures = fixtures.deletingLastPathComponent().appendingPathComponent("resnet")

    /// A deterministic stand-in for a pickle or other framework's weights.
    static func filler(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) &+ seed } }

    static func commit(_ id: String) -> String { String(SHA256.hex(Array(id.utf8)).prefix(40)) }

    static let huggingFaceFiles = ["config.json", "merges.txt", "model.safetensors", "preprocessor_config.json",
                                   "special_tokens_map.json", "tokenizer_config.json", "vocab.json"]
    static let noise: [String: [UInt8]] = [
        "README.md": Array("# tiny CLIP\n".utf8),
        ".gitattributes": Array("*.safetensors filter=lfs diff=lfs merge=lfs -text\n".utf8),
        "pytorch_model.bin": filler(40_000, seed: 1),
        "tf_model.h5": filler(30_000, seed: 2),
        "flax_model.msgpack": filler(30_000, seed: 3),
        "onnx/model.onnx": filler(20_000, seed: 4),
    ]
    static let noiseLFS: Set<String> = ["pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "onnx/model.onnx"]

    /// openai/clip-vit-base-patch32's layout, with hf-tiny-f32's files.
    static func huggingFace(id: String = "tiny-org/clip-hf", token: String? = nil) -> FakeHub.Repository {
        var files = noise
        for name in huggingFaceFiles { files[name] = bytes("hf-tiny-f32", name) }
        return .init(id: id, commit: commit(id), files: files, lfs: noiseLFS.union(["model.safetensors"]), token: token)
    }

    static func sharded(id: String = "tiny-org/clip-sharded") -> FakeHub.Repository {
        var files = noise
        for name in ["config.json", "merges.txt", "preprocessor_config.json", "special_tokens_map.json", "tokenizer_config.json",
                     "vocab.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            files[name] = bytes("hf-tiny-sharded", name)
        }
        return .init(id: id, commit: commit(id), files: files,
                     lfs: noiseLFS.union(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]))
    }

    /// laion's open_clip layout (only the open_clip copy of the weights).
    static func openCLIP(id: String = "tiny-org/clip-openclip") -> FakeHub.Repository {
        var files: [String: [UInt8]] = ["open_clip_pytorch_model.bin": filler(40_000, seed: 5), "README.md": noise["README.md"]!]
        for name in ["open_clip_config.json", "open_clip_model.safetensors", "vocab.json", "merges.txt"] {
            files[name] = bytes("openclip-tiny-f32", name)
        }
        return .init(id: id, commit: commit(id), files: files, lfs: ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"])
    }

    /// An open_clip ResNet CLIP (timm/resnet50_clip.openai's layout), with openclip-rn-tiny-f32's files.
    static let resNetFiles = ["open_clip_config.json", "open_clip_model.safetensors", "vocab.json", "merges.txt"]
    static func resNet(id: String = "tiny-org/clip-rn") -> FakeHub.Repository {
        var files: [String: [UInt8]] = ["open_clip_pytorch_model.bin": filler(40_000, seed: 7), "README.md": noise["README.md"]!]
        for name in resNetFiles {
            files[name] = [UInt8](FileManager.default.contents(atPath: resnetFixtures.appendingPathComponent("openclip-rn-tiny-f32/\(name)").path)!)
        }
        return .init(id: id, commit: commit(id), files: files, lfs: ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"])
    }

    /// An open_clip model with a timm image tower (ConvNeXt), which the engine does not run.
    static func timmTower(id: String = "tiny-org/clip-convnext") -> FakeHub.Repository {
        var files = openCLIP(id: id).files
        files["open_clip_config.json"] = Array(#"{"model_cfg": {"embed_dim": 32, "vision_cfg": {"timm_model_name": "convnext_base", "image_size": 32}, "text_cfg": {"width": 64, "heads": 4, "layers": 2}}}"#.utf8)
        return .init(id: id, commit: commit(id), files: files, lfs: ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"])
    }

    /// A CLIP repository from before safetensors: PyTorch pickle weights only.
    static func pickleOnly(id: String = "tiny-org/clip-bin-only") -> FakeHub.Repository {
        var files: [String: [UInt8]] = ["pytorch_model.bin": filler(50_000, seed: 6)]
        for name in ["config.json", "merges.txt", "vocab.json", "preprocessor_config.json"] { files[name] = bytes("hf-tiny-f32", name) }
        return .init(id: id, commit: commit(id), files: files, lfs: ["pytorch_model.bin"])
    }

    /// A text model in the same file layout: safetensors weights, but `model_type` "bert".
    static func notCLIP(id: String = "tiny-org/bert-tiny") -> FakeHub.Repository {
        var files: [String: [UInt8]] = [:]
        for name in ["merges.txt", "vocab.json", "model.safetensors"] { files[name] = bytes("hf-tiny-f32", name) }
        files["config.json"] = Array(#"{"model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2}"#.utf8)
        return .init(id: id, commit: commit(id), files: files, lfs: ["model.safetensors"])
    }

    static func all() -> [FakeHub.Repository] {
        [huggingFace(), sharded(), openCLIP(), resNet(), timmTower(), pickleOnly(), notCLIP(),
         huggingFace(id: "tiny-org/clip-private", token: "hf_secret")]
    }
}
