/// What went wrong while pulling a model, worded for the person at the terminal.
public enum HubError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidRepository(String, reason: String)
    case invalidEndpoint(String)
    case unreachable(url: String, detail: String)
    case repositoryNotFound(repository: String, endpoint: String, status: Int)
    case revisionNotFound(repository: String, revision: String)
    case accessDenied(repository: String, status: Int, detail: String)
    case fileNotFound(repository: String, file: String)
    case http(url: String, status: Int, detail: String)
    case badMetadata(String)
    case notACheckpoint(repository: String, reason: String)
    case onlyPickleWeights(repository: String, files: [String])
    case sizeMismatch(file: String, expected: Int64, received: Int64)
    case digestMismatch(file: String, expected: String, received: String)
    case transfer(file: String, detail: String)
    case busy(String)
    case notEnoughSpace(folder: String, needed: Int64, free: Int64)
    case local(String)

    public var description: String {
        switch self {
        case .invalidRepository(let text, let reason):
            return "'\(text)' is not a hub repository name: \(reason)"
        case .invalidEndpoint(let text):
            return "'\(text)' is not an http(s) endpoint URL"
        case .unreachable(let url, let detail):
            return "cannot reach \(url): \(detail)"
        case .repositoryNotFound(let repository, let endpoint, let status):
            return "repository \(repository) was not found on \(endpoint) (HTTP \(status)): check the name; "
                + "for a private or gated repository set HF_TOKEN to a token that can read it"
        case .revisionNotFound(let repository, let revision):
            return "repository \(repository) has no revision '\(revision)' (a branch, tag or commit)"
        case .accessDenied(let repository, let status, let detail):
            return "access to \(repository) was refused (HTTP \(status))\(detail.isEmpty ? "" : ": \(detail)"); "
                + "for a gated repository accept its terms on the hub and set HF_TOKEN"
        case .fileNotFound(let repository, let file):
            return "\(repository) lists \(file) but the hub has no such file"
        case .http(let url, let status, let detail):
            return "GET \(url) answered HTTP \(status)\(detail.isEmpty ? "" : ": \(detail)")"
        case .badMetadata(let detail):
            return "the hub's answer is not what was expected: \(detail)"
        case .notACheckpoint(let repository, let reason):
            return "\(repository) is not a CLIP checkpoint TagTune can load: \(reason)"
        case .onlyPickleWeights(let repository, let files):
            return "\(repository) has only PyTorch pickle weights (\(files.joined(separator: ", "))); TagTune reads safetensors "
                + "only and never unpickles downloaded files. Pick a repository with model.safetensors, or convert them "
                + "yourself (transformers: CLIPModel.from_pretrained(dir).save_pretrained(out, safe_serialization=True))"
        case .sizeMismatch(let file, let expected, let received):
            return "\(file): the hub lists \(expected) bytes but \(received) arrived; the partial file was deleted, run pull again"
        case .digestMismatch(let file, let expected, let received):
            return "\(file): SHA-256 \(received) does not match the hub's \(expected); the partial file was deleted, run pull again"
        case .transfer(let file, let detail):
            return "\(file): the transfer broke (\(detail)); what arrived is kept, run pull again to resume"
        case .busy(let detail):
            return detail
        case .notEnoughSpace(let folder, let needed, let free):
            return "\(folder) has \(ByteCount.text(free)) free but the download needs \(ByteCount.text(needed)) more"
        case .local(let detail):
            return detail
        }
    }
}
