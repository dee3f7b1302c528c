import CLIP

/// An encoder in memory, shared by every request and batch that uses it.
public struct LoadedEncoder: Sendable {
    public let name: String
    public let model: CLIPModel
    /// SHA-256 of the weight files: what prompt sets are bound to.
    public let digest: String
    public let dtype: String

    /// Whether two handles are the same model in memory (batches never mix models).
    func isSame(as other: LoadedEncoder) -> Bool { model === other.model }
}
