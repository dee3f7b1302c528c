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
