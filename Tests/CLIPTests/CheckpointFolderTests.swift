import Foundation
import Testing
@testable import CLIP

/// `CheckpointFolder`, the one rule for what a model folder is: the engine loads what it chooses,
/// and the same rule answers for a hub repository's file list.
@Suite("Checkpoint folder")
struct CheckpointFolderTests {
    static let root = CLIPParityTests.root

    @Test func theRuleOnFileNames() {
        let hf: Set = ["config.json", "model.safetensors", "vocab.json", "merges.txt"]
        #expect(CheckpointFolder.choose(fileNames: hf)
                == .checkpoint(CheckpointFolder(layout: .huggingFace, configFile: "config.json", weights: .single("model.safetensors"))))
        // The single file before the index; the index alone is sharded.
        #expect(CheckpointFolder.choose(fileNames: hf.union(["model.safetensors.index.json"]))
                == CheckpointFolder.choose(fileNames: hf))
        #expect(CheckpointFolder.choose(fileNames: ["config.json", "model.safetensors.index.json"])
                == .checkpoint(CheckpointFolder(layout: .huggingFace, configFile: "config.json",
                                                weights: .sharded(index: "model.safetensors.index.json"))))
        let openCLIP: Set = ["open_clip_config.json", "open_clip_model.safetensors"]
        #expect(CheckpointFolder.choose(fileNames: openCLIP)
                == .checkpoint(CheckpointFolder(layout: .openCLIP, configFile: "open_clip_config.json",
                                                weights: .single("open_clip_model.safetensors"))))
        // Both complete: Hugging Face, as `tagtune pull` fetches.
        #expect(CheckpointFolder.choose(fileNames: hf.union(openCLIP)) == CheckpointFolder.choose(fileNames: hf))
        // An open_clip configuration with only Hugging Face weights is not half of each.
        if case .unreadable(let reason) = CheckpointFolder.choose(fileNames: ["open_clip_config.json", "model.safetensors"]) {
            #expect(reason.contains("convert .bin/.pt"))
        } else {
            Issue.record("an open_clip config with model.safetensors was taken as a checkpoint")
        }
        #expect(CheckpointFolder.choose(fileNames: ["config.json", "pytorch_model.bin"]) != .notACheckpoint)
        #expect(CheckpointFolder.choose(fileNames: ["model.safetensors", "README.md"]) == .notACheckpoint)
        #expect(CheckpointFolder.inspect(Self.root.appendingPathComponent("no-such-folder")) == .notACheckpoint)
    }

    /// A checkpoint whose preprocessing crops another size than its vision tower takes is refused at
    /// load, naming both sizes (it used to load, and every image encode failed, in the engine and the server apart).
    @Test func preprocessingThatDoesNotFitTheModelIsRefusedAtLoad() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-crop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let hf = Self.root.appendingPathComponent("hf-tiny-f32")
        for name in try FileManager.default.contentsOfDirectory(atPath: hf.path) where name != "preprocessor_config.json" {
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(name), withDestinationURL: hf.appendingPathComponent(name))
        }
        var config = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: hf.appendingPathComponent("preprocessor_config.json"))) as? [String: Any])
        config["crop_size"] = ["height": 48, "width": 48]
        config["size"] = ["shortest_edge": 48]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("preprocessor_config.json"))
        #expect {
            _ = try CLIPModel(directory: folder)
        } throws: { error in
            "\(error)".contains("crops 48 px but the model expects 32 px")
        }
    }

    /// A folder holding both layouts loads the Hugging Face copy, as the registry and `tagtune pull`
    /// choose it (the engine used to load open_clip's first).
    @Test func theEngineLoadsWhatTheRuleChooses() throws {
        let both = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-both-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: both, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: both) }
        let hf = Self.root.appendingPathComponent("hf-tiny-f32"), openCLIP = Self.root.appendingPathComponent("openclip-tiny-f32")
        for name in try FileManager.default.contentsOfDirectory(atPath: hf.path) {
            try FileManager.default.createSymbolicLink(at: both.appendingPathComponent(name), withDestinationURL: hf.appendingPathComponent(name))
        }
        for name in ["open_clip_config.json", "open_clip_model.safetensors"] {
            try FileManager.default.createSymbolicLink(at: both.appendingPathComponent(name), withDestinationURL: openCLIP.appendingPathComponent(name))
        }
        let model = try CLIPModel(directory: both)
        #expect(model.configuration.layout == .huggingFace)
        #expect(try model.weightsDigest() == CLIPModel(directory: hf).weightsDigest())
        guard case .checkpoint(let folder) = CheckpointFolder.inspect(both) else {
            Issue.record("not a checkpoint")
            return
        }
        #expect(try folder.weightFiles(in: both) == model.weightFiles)

        let sharded = Self.root.appendingPathComponent("hf-tiny-sharded")
        guard case .checkpoint(let shards) = CheckpointFolder.inspect(sharded) else {
            Issue.record("the sharded fixture is not a checkpoint")
            return
        }
        #expect(try shards.weightFiles(in: sharded) == CLIPModel(directory: sharded).weightFiles)
        #expect(try shards.weightFiles(in: sharded).count == 2)
    }
}
