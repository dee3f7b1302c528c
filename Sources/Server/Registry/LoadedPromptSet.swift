import Foundation
import Tuning

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
