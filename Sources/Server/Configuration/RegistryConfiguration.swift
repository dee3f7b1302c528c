import Compute

/// Where the registry finds encoders and prompt sets, and which ones serve requests
/// that name none (`models.*`, `prompt_sets.*`).
public struct RegistryConfiguration: Sendable, Equatable {
    /// One sub-folder per encoder checkpoint; the sub-folder's name is the model's name.
    public var modelsDirectory: String
    /// nil: the default prompt set's encoder, else the only encoder.
    public var defaultModel: String?
    /// One sub-folder per prompt set; the sub-folder's name is the prompt set's id.
    public var promptSetsDirectory: String
    /// nil: the default encoder's only prompt set (or the one made default through the API).
    public var defaultPromptSet: String?
    /// `name=path` entries installed into the models folder at start when absent (as links:
    /// checkpoints are large and read-only), e.g. the embedded demo model.
    public var bundledModels: [String]
    /// `name=path` entries copied into the prompt-sets folder at start when absent (copies: their
    /// thresholds can be edited through the API without touching the shipped files).
    public var bundledPromptSets: [String]
    /// Precision of the weight products for every model (`f32` or `bf16`), unless
    /// `precisionByModel` names the model (`name=bf16` entries).
    public var precision: String = Precision.f32.rawValue
    public var precisionByModel: [String] = []

    /// The precision asked for the model `name`.
    public func precision(for name: String) -> Precision {
        for entry in precisionByModel {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[0] == name, let chosen = Precision(rawValue: parts[1]) { return chosen }
        }
        return Precision(rawValue: precision) ?? .f32
    }

    /// Checks `precisionByModel`: each entry `name=f32` or `name=bf16`, each model named once.
    func checkPrecisionByModel() throws {
        var seen = Set<String>()
        for entry in precisionByModel {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, Precision(rawValue: parts[1]) != nil else {
                throw ConfigurationError("models.precision_by_model: '\(entry)' is not name=f32 or name=bf16")
            }
            guard seen.insert(parts[0]).inserted else {
                throw ConfigurationError("models.precision_by_model: model '\(parts[0])' is named twice")
            }
        }
    }

    public init(modelsDirectory: String, defaultModel: String?, promptSetsDirectory: String, defaultPromptSet: String?,
                bundledModels: [String] = [], bundledPromptSets: [String] = []) {
        self.modelsDirectory = modelsDirectory
        self.defaultModel = defaultModel
        self.promptSetsDirectory = promptSetsDirectory
        self.defaultPromptSet = defaultPromptSet
        self.bundledModels = bundledModels
        self.bundledPromptSets = bundledPromptSets
    }
}
