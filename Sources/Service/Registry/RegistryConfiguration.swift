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

    public init(modelsDirectory: String, defaultModel: String?, promptSetsDirectory: String, defaultPromptSet: String?) {
        self.modelsDirectory = modelsDirectory
        self.defaultModel = defaultModel
        self.promptSetsDirectory = promptSetsDirectory
        self.defaultPromptSet = defaultPromptSet
    }
}
