import CLIP
import Foundation

/// Whether a downloaded folder is a CLIP that TagTune loads, checked with the CLIP module itself
/// and without reading the weights into memory.
enum CheckpointCheck {
    /// The configuration alone (`CLIPConfiguration`): run as soon as it arrives, so a repository that
    /// is not a CLIP (or a variant the engine does not run) is refused before its weights are fetched.
    static func configuration(in folder: URL, plan: CheckpointFilePlan, repository: String) throws -> CLIPConfiguration {
        let configuration: CLIPConfiguration
        do {
            configuration = try plan.checkpoint.configuration(in: folder)
        } catch {
            throw HubError.notACheckpoint(repository: repository, reason: "\(plan.configFile): \(error)")
        }
        if plan.usesStandardVocabulary, let reason = CheckpointFolder.standardVocabularyRefusal(for: configuration) {
            throw HubError.notACheckpoint(repository: repository, reason: "it has no tokenizer files, and \(reason)")
        }
        return configuration
    }

    /// The complete folder: configuration, tokenizer and the weight files' safetensors headers.
    static func folder(_ folder: URL, plan: CheckpointFilePlan, repository: String) throws {
        let configuration = try Self.configuration(in: folder, plan: plan, repository: repository)
        do {
            _ = try CheckpointFolder.tokenizer(in: folder, for: configuration)
            _ = try plan.checkpoint.openWeights(in: folder)
        } catch {
            throw HubError.notACheckpoint(repository: repository, reason: "\(error)")
        }
    }
}
