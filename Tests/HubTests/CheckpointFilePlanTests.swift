import Foundation
import Testing
@testable import Hub

/// Which files of a repository a pull fetches.
@Suite("Checkpoint file plan")
struct CheckpointFilePlanTests {
    /// openai/clip-vit-base-patch32's file list.
    static let openAI = [".gitattributes", "README.md", "config.json", "flax_model.msgpack", "merges.txt", "model.safetensors",
                         "preprocessor_config.json", "pytorch_model.bin", "special_tokens_map.json", "tf_model.h5",
                         "tokenizer.json", "tokenizer_config.json", "vocab.json"]

    @Test func huggingFaceLayoutTakesSafetensorsAndSmallFilesFirst() throws {
        let plan = try CheckpointFilePlan.choose(from: Self.openAI, repository: "openai/clip")
        #expect(plan.layout == .huggingFace)
        #expect(plan.files == ["config.json", "preprocessor_config.json", "vocab.json", "merges.txt",
                               "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json", "model.safetensors"])
    }

    @Test func bothLayoutsPreferHuggingFace() throws {
        let laion = Self.openAI + ["open_clip_config.json", "open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        let plan = try CheckpointFilePlan.choose(from: laion, repository: "laion/clip")
        #expect(plan.layout == .huggingFace)
        #expect(!plan.files.contains("open_clip_model.safetensors"))
    }

    @Test func openCLIPLayoutWithItsArchiveTokenizer() throws {
        let plan = try CheckpointFilePlan.choose(
            from: ["open_clip_config.json", "open_clip_model.safetensors", "open_clip_pytorch_model.bin", "bpe_simple_vocab_16e6.txt.gz"],
            repository: "x/y")
        #expect(plan.layout == .openCLIP)
        #expect(plan.files == ["open_clip_config.json", "bpe_simple_vocab_16e6.txt.gz", "open_clip_model.safetensors"])
    }

    @Test func shardsComeFromTheIndex() throws {
        var plan = try CheckpointFilePlan.choose(
            from: ["config.json", "vocab.json", "merges.txt", "model.safetensors.index.json", "a.safetensors", "b.safetensors", "c.safetensors"],
            repository: "x/y")
        #expect(plan.shardIndex == "model.safetensors.index.json")
        let index = Data(#"{"metadata": {}, "weight_map": {"t1": "b.safetensors", "t2": "a.safetensors", "t3": "b.safetensors"}}"#.utf8)
        try plan.addShards(indexJSON: index, available: ["a.safetensors", "b.safetensors", "c.safetensors"], repository: "x/y")
        #expect(plan.files.suffix(3) == ["model.safetensors.index.json", "a.safetensors", "b.safetensors"])
    }

    @Test(arguments: [#"{"weight_map": {"t": "../escape.safetensors"}}"#, #"{"weight_map": {"t": "missing.safetensors"}}"#,
                      #"{"weight_map": {"t": "weights.bin"}}"#, #"{"no_map": 1}"#])
    func badIndexesAreRefused(index: String) throws {
        var plan = try CheckpointFilePlan.choose(from: ["config.json", "vocab.json", "merges.txt", "model.safetensors.index.json"],
                                                 repository: "x/y")
        #expect(throws: HubError.self) {
            try plan.addShards(indexJSON: Data(index.utf8), available: ["model.safetensors.index.json", "weights.bin"], repository: "x/y")
        }
    }

    @Test func pickleOnlyIsRefusedWithTheFilesNamed() {
        #expect(throws: HubError.onlyPickleWeights(repository: "x/y", files: ["pytorch_model.bin"])) {
            try CheckpointFilePlan.choose(from: ["config.json", "pytorch_model.bin", "vocab.json", "merges.txt"], repository: "x/y")
        }
        #expect(throws: HubError.onlyPickleWeights(repository: "x/y", files: ["open_clip_pytorch_model.bin"])) {
            try CheckpointFilePlan.choose(from: ["open_clip_config.json", "open_clip_pytorch_model.bin"], repository: "x/y")
        }
    }

    @Test func missingPiecesAreNamed() {
        let noConfig = #expect(throws: HubError.self) {
            try CheckpointFilePlan.choose(from: ["model.safetensors", "vocab.json", "merges.txt"], repository: "x/y")
        }
        #expect(noConfig?.description.contains("neither config.json nor open_clip_config.json") == true)
        let noTokenizer = #expect(throws: HubError.self) {
            try CheckpointFilePlan.choose(from: ["config.json", "model.safetensors"], repository: "x/y")
        }
        #expect(noTokenizer?.description.contains("no tokenizer files") == true)
    }

    @Test func openCLIPWithoutTokenizerFilesPlansTheBundledVocabulary() throws {
        let plan = try CheckpointFilePlan.choose(from: ["open_clip_config.json", "open_clip_model.safetensors", "README.md"],
                                                 repository: "x/y")
        #expect(plan.usesStandardVocabulary)
        #expect(plan.files == ["open_clip_config.json", "open_clip_model.safetensors"])
        let withArchive = try CheckpointFilePlan.choose(
            from: ["open_clip_config.json", "open_clip_model.safetensors", "bpe_simple_vocab_16e6.txt.gz"], repository: "x/y")
        #expect(!withArchive.usesStandardVocabulary)
        #expect(withArchive.files.contains("bpe_simple_vocab_16e6.txt.gz"))
    }
}
