import CLIP
import Foundation

/// The files of a hub repository that make a CLIP folder TagTune loads, and nothing else
/// (repositories also hold PyTorch, TensorFlow, Flax and ONNX copies of the same weights).
public struct CheckpointFilePlan: Sendable, Equatable {
    public typealias Layout = CLIPConfiguration.Layout

    /// The layout, configuration file and weights `CheckpointFolder` chose.
    public let checkpoint: CheckpointFolder
    public var layout: Layout { checkpoint.layout }
    /// The configuration file that decides whether the repository is a CLIP (`CLIPConfiguration`).
    public var configFile: String { checkpoint.configFile }
    /// Small files first (configuration, tokenizer, preprocessing), weights last, so a repository
    /// that is not a CLIP is refused before its weights are fetched. Shards join after their index.
    public private(set) var files: [String]
    /// The index of sharded safetensors weights, whose `weight_map` names the shards.
    public let shardIndex: String?
    /// An open_clip repository without tokenizer files: it is served with CLIP's standard vocabulary.
    public let usesStandardVocabulary: Bool

    static let indexWeights = CheckpointFolder.indexWeights
    /// Read by the tokenizer when present (special tokens), or kept so the folder also serves transformers.
    static let tokenizerExtras = ["tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"]
    static let bpeArchive = "bpe_simple_vocab_16e6.txt.gz"
    static let pickleSuffixes = [".bin", ".pt", ".pth", ".ckpt", ".pkl"]

    /// Chooses the files from a repository's file list: the layout and weights by `CheckpointFolder`'s
    /// rule (Hugging Face when both are complete), then the tokenizer and small files beside them.
    public static func choose(from siblings: [String], repository: String) throws -> CheckpointFilePlan {
        let names = Set(siblings.filter { !$0.contains("/") })
        let finding = CheckpointFolder.choose(fileNames: names)
        guard case .checkpoint(let folder) = finding else {
            let pickles = names.filter { name in pickleSuffixes.contains { name.hasSuffix($0) } }.sorted()
            if !pickles.isEmpty && !names.contains(where: { $0.hasSuffix(".safetensors") }) {
                throw HubError.onlyPickleWeights(repository: repository, files: pickles)
            }
            if case .unreadable(let reason) = finding {
                throw HubError.notACheckpoint(repository: repository, reason: reason)
            }
            throw HubError.notACheckpoint(repository: repository, reason:
                "it has neither \(CheckpointFolder.huggingFaceConfig) nor \(CheckpointFolder.openCLIPConfig)")
        }
        let layout = folder.layout, configFile = folder.configFile
        var weights: [String] = []
        var shardIndex: String?
        switch folder.weights {
        case .single(let name): weights = [name]
        case .sharded(let index): shardIndex = index
        }

        var tokenizer: [String]
        if names.contains("vocab.json") && names.contains("merges.txt") {
            tokenizer = ["vocab.json", "merges.txt"]
        } else if names.contains(bpeArchive) {
            tokenizer = [bpeArchive]
        } else if layout == .openCLIP {
            tokenizer = []   // CLIP's standard vocabulary, bundled; CheckpointCheck refuses a configuration it cannot serve
        } else {
            throw HubError.notACheckpoint(
                repository: repository, reason: "it has no tokenizer files (vocab.json + merges.txt, or \(bpeArchive))")
        }
        tokenizer += tokenizerExtras.filter(names.contains)

        var files = [configFile]
        if layout == .huggingFace && names.contains("preprocessor_config.json") { files.append("preprocessor_config.json") }
        files += tokenizer
        if let shardIndex { files.append(shardIndex) }
        files += weights
        return CheckpointFilePlan(checkpoint: folder, files: files, shardIndex: shardIndex, usesStandardVocabulary: tokenizer.isEmpty)
    }

    /// Adds the shards that a downloaded index names, after checking each is a plain safetensors
    /// file name the repository lists (an index cannot point outside the folder).
    public mutating func addShards(indexJSON: Data, available siblings: [String], repository: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: indexJSON) as? [String: Any],
              let map = object["weight_map"] as? [String: Any] else {
            throw HubError.notACheckpoint(repository: repository, reason: "\(Self.indexWeights) has no weight_map object")
        }
        let shards = Set(map.values.compactMap { $0 as? String })
        guard shards.count == Set(map.values.map { "\($0)" }).count, !shards.isEmpty else {
            throw HubError.notACheckpoint(repository: repository, reason: "\(Self.indexWeights) maps tensors to something other than file names")
        }
        let listed = Set(siblings)
        for shard in shards.sorted() {
            guard shard.hasSuffix(".safetensors"), !shard.contains("/"), !shard.contains("\\"), !shard.hasPrefix(".") else {
                throw HubError.notACheckpoint(repository: repository, reason: "\(Self.indexWeights) names '\(shard)', not a safetensors file beside it")
            }
            guard listed.contains(shard) else {
                throw HubError.notACheckpoint(repository: repository, reason: "\(Self.indexWeights) names \(shard), which the repository does not have")
            }
            if !files.contains(shard) { files.append(shard) }
        }
    }

    /// Whether a file holds weights (checked by SHA-256, not only by size).
    public static func isWeights(_ name: String) -> Bool { name.hasSuffix(".safetensors") }
}
