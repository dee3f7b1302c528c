import Foundation

/// What a model folder is: the one rule, used by the engine (`CLIPModel`), the registry's folder
/// scan, job validation, `tagtune pull` (on a hub repository's file list) and the tests.
///
/// A checkpoint is a configuration with safetensors weights in one layout:
/// - Hugging Face: `config.json` with `model.safetensors`, else `model.safetensors.index.json`
///   and the shards it names;
/// - open_clip: `open_clip_config.json` with `open_clip_model.safetensors`.
///
/// When both are complete, Hugging Face wins: laion's repositories carry both copies of the same
/// weights, and `tagtune pull` fetches that one. A configuration without weights in its layout is a
/// checkpoint TagTune cannot read (PyTorch `.bin`/`.pt` files must be converted first); a folder
/// without either configuration is not a checkpoint at all.
public struct CheckpointFolder: Sendable, Equatable {
    public enum Weights: Sendable, Equatable {
        case single(String)
        case sharded(index: String)
    }

    /// What the rule finds.
    public enum Finding: Sendable, Equatable {
        case checkpoint(CheckpointFolder)
        /// A configuration, but no weights TagTune reads; the reason, in words.
        case unreadable(String)
        /// Neither configuration file.
        case notACheckpoint
    }

    public let layout: CLIPConfiguration.Layout
    public let configFile: String
    public let weights: Weights

    public static let huggingFaceConfig = "config.json"
    public static let openCLIPConfig = "open_clip_config.json"
    public static let singleWeights = "model.safetensors"
    public static let indexWeights = SafeTensorsIndex.defaultFileName
    public static let openCLIPWeights = "open_clip_model.safetensors"

    /// The rule on the file names at the top of a folder or a hub repository.
    public static func choose(fileNames names: Set<String>) -> Finding {
        if names.contains(huggingFaceConfig) && names.contains(singleWeights) {
            return .checkpoint(CheckpointFolder(layout: .huggingFace, configFile: huggingFaceConfig, weights: .single(singleWeights)))
        }
        if names.contains(huggingFaceConfig) && names.contains(indexWeights) {
            return .checkpoint(CheckpointFolder(layout: .huggingFace, configFile: huggingFaceConfig, weights: .sharded(index: indexWeights)))
        }
        if names.contains(openCLIPConfig) && names.contains(openCLIPWeights) {
            return .checkpoint(CheckpointFolder(layout: .openCLIP, configFile: openCLIPConfig, weights: .single(openCLIPWeights)))
        }
        if names.contains(huggingFaceConfig) || names.contains(openCLIPConfig) {
            return .unreadable("it has no safetensors weights in a layout TagTune reads (\(singleWeights) or \(indexWeights) "
                               + "beside \(huggingFaceConfig), \(openCLIPWeights) beside \(openCLIPConfig)); "
                               + "only safetensors weights are read: convert .bin/.pt files first")
        }
        return .notACheckpoint
    }

    /// The rule on a folder on disk (a missing folder is not a checkpoint).
    public static func inspect(_ folder: URL) -> Finding {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return choose(fileNames: Set(names))
    }

    /// The configuration file, parsed.
    public func configuration(in folder: URL) throws -> CLIPConfiguration {
        let json = try CLIPModel.readJSON(folder.appendingPathComponent(configFile))
        switch layout {
        case .huggingFace: return try .huggingFace(json: json)
        case .openCLIP: return try .openCLIP(json: json)
        }
    }

    /// The weights, memory-mapped, and their files in the order the weights digest reads them
    /// (the single file, or the shards by name).
    public func openWeights(in folder: URL) throws -> (source: any TensorSource, files: [URL]) {
        switch weights {
        case .single(let name):
            let url = folder.appendingPathComponent(name)
            return (try SafeTensorsFile(url: url), [url])
        case .sharded(let index):
            let shards = try SafeTensorsIndex(url: folder.appendingPathComponent(index))
            return (shards, Self.files(of: shards))
        }
    }

    /// The weight files alone (a single file is not opened).
    public func weightFiles(in folder: URL) throws -> [URL] {
        switch weights {
        case .single(let name): return [folder.appendingPathComponent(name)]
        case .sharded(let index): return Self.files(of: try SafeTensorsIndex(url: folder.appendingPathComponent(index)))
        }
    }

    private static func files(of index: SafeTensorsIndex) -> [URL] {
        index.shards.values.compactMap(\.url).sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The folder's tokenizer, refused when it has more ids than the model's embedding has rows.
    /// An open_clip folder without tokenizer files gets CLIP's standard vocabulary, which the
    /// binary carries (open_clip itself ships it and saves no tokenizer files beside its models).
    public static func tokenizer(in folder: URL, for configuration: CLIPConfiguration) throws -> CLIPTokenizer {
        let tokenizer: CLIPTokenizer
        if configuration.layout == .openCLIP && CLIPTokenizer.files(in: folder) == nil {
            if let reason = standardVocabularyRefusal(for: configuration) {
                throw CLIPError.tokenizer("\(folder.path) has no tokenizer files (vocab.json + merges.txt, or \(CLIPTokenizer.mergesArchiveName)), "
                                          + "and \(reason)")
            }
            tokenizer = try CLIPTokenizer.standard()
        } else {
            tokenizer = try CLIPTokenizer(directory: folder)
        }
        guard tokenizer.vocabularySize <= configuration.vocabularySize else {
            throw CLIPError.tokenizer("the tokenizer has \(tokenizer.vocabularySize) ids but the model's embedding has \(configuration.vocabularySize) rows")
        }
        return tokenizer
    }

    /// Why CLIP's standard vocabulary cannot stand in for an open_clip model's missing tokenizer
    /// files; nil when it can.
    public static func standardVocabularyRefusal(for configuration: CLIPConfiguration) -> String? {
        if let name = configuration.hubTokenizerName {
            return "text_cfg.hf_tokenizer_name names the Hugging Face tokenizer '\(name)', which is not bundled; add its vocab.json and merges.txt"
        }
        if configuration.vocabularySize != CLIPTokenizer.standardVocabularySize {
            return "text_cfg.vocab_size is \(configuration.vocabularySize), not the \(CLIPTokenizer.standardVocabularySize) of CLIP's standard vocabulary "
                + "(the one bundled); add the model's own tokenizer files"
        }
        return nil
    }
}
