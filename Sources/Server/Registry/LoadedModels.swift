import CLIP
import Foundation
import Tuning

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

/// A prompt set in memory, checked against the weights of the encoder it is bound to.
public struct LoadedPromptSet: Sendable {
    public let id: String
    public let folder: URL
    /// The encoder (model name) whose weights it was tuned on.
    public let encoderName: String
    public internal(set) var promptSet: PromptSet
    let fingerprint: String

    public var manifest: PromptSetManifest { promptSet.manifest }
}
