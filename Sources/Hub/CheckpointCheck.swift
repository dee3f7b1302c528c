import CLIP
import Foundation

/// Whether a downloaded folder is a CLIP that TagTune loads, checked with the CLIP module itself
/// and without reading the weights into memory.
enum CheckpointCheck {
    /// The configuration alone (`CLIPConfiguration`): run as soon as it arrives, so a repository that
    /// is not a CLIP (or a variant the engine does not run) is refused before its weights are fetched.
    static func configuration(in folder: URL, plan: CheckpointFilePlan, repository: String) throws -> CLIPConfiguration {
        let url = folder.appendingPathComponent(plan.configFile)
        do {
            guard let data = FileManager.default.contents(atPath: url.path),
                  let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw HubError.notACheckpoint(repository: repository, reason: "\(plan.configFile) is not a JSON object")
            }
            switch plan.layout {
            case .huggingFace: return try .huggingFace(json: json)
            case .openCLIP: return try .openCLIP(json: json)
            }
        } catch let error as HubError {
            throw error
        } catch {
            throw HubError.notACheckpoint(repository: repository, reason: "\(plan.configFile): \(error)")
        }
    }

    /// The complete folder: configuration, tokenizer and the weight files' safetensors headers.
    static func folder(_ folder: URL, plan: CheckpointFilePlan, repository: String) throws {
        let configuration = try Self.configuration(in: folder, plan: plan, repository: repository)
        do {
            let tokenizer = try CLIPTokenizer(directory: folder)
            guard tokenizer.vocabularySize <= configuration.vocabularySize else {
                throw CLIPError.tokenizer("the tokenizer has \(tokenizer.vocabularySize) ids but the model's embedding has \(configuration.vocabularySize) rows")
            }
            if let index = plan.shardIndex {
                _ = try SafeTensorsIndex(url: folder.appendingPathComponent(index))
            } else {
                for name in plan.files where CheckpointFilePlan.isWeights(name) {
                    _ = try SafeTensorsFile(url: folder.appendingPathComponent(name))
                }
            }
        } catch {
            throw HubError.notACheckpoint(repository: repository, reason: "\(error)")
        }
    }
}
