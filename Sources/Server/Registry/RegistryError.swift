import Hummingbird

/// Why the registry cannot give what was asked, each case worded for the client and mapped to
/// the API's error shape.
public enum RegistryError: Error, Sendable, CustomStringConvertible, APIErrorConvertible {
    case unknownModel(String, known: [String])
    case unknownPromptSet(String, known: [String])
    /// The folder looks like a checkpoint but cannot be loaded.
    case modelUnusable(String, problem: String)
    /// The folder has a manifest but the prompt set cannot be used.
    case promptSetUnusable(String, problem: String)
    /// The prompt set names an encoder whose weights are not the ones it was tuned on.
    case encoderMismatch(promptSet: String, encoder: String, promptSetDigest: String, encoderDigest: String)
    /// No encoder in the models folder has the weights the prompt set was tuned on.
    case noEncoder(promptSet: String, encoderName: String, digest: String)
    /// The request names a model and a prompt set tuned for another one.
    case modelMismatch(promptSet: String, promptSetModel: String, promptSetDigest: String, model: String, modelDigest: String)
    /// The request names nothing and there is no default to fall back on.
    case noDefault(String)
    case invalidPatch(param: String, message: String)
    case persistence(String)
    /// `If-Match` named another version than the current one (`etag`).
    case staleVersion(promptSet: String, etag: String)

    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            return "no model named '\(name)'" + Self.listing(known, of: "models")
        case .unknownPromptSet(let id, let known):
            return "no prompt set '\(id)'" + Self.listing(known, of: "prompt sets")
        case .modelUnusable(let name, let problem):
            return "model '\(name)' cannot be loaded: \(problem)"
        case .promptSetUnusable(let id, let problem):
            return "prompt set '\(id)' cannot be used: \(problem)"
        case .encoderMismatch(let id, let encoder, let wanted, let actual):
            return "prompt set '\(id)' was tuned on encoder weights sha256 \(wanted), but model '\(encoder)' has weights sha256 \(actual); it is refused"
        case .noEncoder(let id, let encoderName, let digest):
            return "prompt set '\(id)' was tuned on '\(encoderName)' (weights sha256 \(digest)); no model in the models folder has those weights"
        case .modelMismatch(let id, let setModel, let setDigest, let model, let modelDigest):
            return "prompt set '\(id)' belongs to model '\(setModel)' (weights sha256 \(setDigest)), not to model '\(model)' (weights sha256 \(modelDigest))"
        case .noDefault(let reason):
            return reason
        case .invalidPatch(_, let message):
            return message
        case .persistence(let message):
            return "cannot save the change: \(message)"
        case .staleVersion(let id, let etag):
            return "prompt set '\(id)' changed since that version was read (If-Match); its ETag is now \(etag): read it again, then retry"
        }
    }

    var apiError: APIError {
        switch self {
        case .unknownModel: return APIError(.notFound, code: "model_not_found", message: description, param: "model")
        case .unknownPromptSet: return APIError(.notFound, code: "prompt_set_not_found", message: description, param: "prompt_set")
        case .modelUnusable: return APIError(.serviceUnavailable, code: "model_unavailable", message: description, param: "model")
        case .promptSetUnusable: return APIError(.conflict, code: "prompt_set_unusable", message: description, param: "prompt_set")
        case .encoderMismatch: return APIError(.conflict, code: "encoder_mismatch", message: description, param: "prompt_set")
        case .noEncoder: return APIError(.conflict, code: "encoder_not_found", message: description, param: "prompt_set")
        case .modelMismatch: return APIError(.unprocessableContent, code: "model_mismatch", message: description, param: "model")
        case .noDefault: return APIError(.serviceUnavailable, code: "no_default", message: description)
        case .invalidPatch(let param, _): return APIError(.unprocessableContent, code: "invalid_value", message: description, param: param)
        case .persistence: return APIError(.internalServerError, code: "write_failed", message: description)
        case .staleVersion(_, let etag):
            var error = APIError(.preconditionFailed, code: "precondition_failed", message: description, param: "If-Match")
            error.headers[.eTag] = etag
            return error
        }
    }

    private static func listing(_ names: [String], of kind: String) -> String {
        if names.isEmpty { return " (there are no \(kind))" }
        let shown = names.prefix(20).joined(separator: ", ")
        return " (known \(kind): \(shown)\(names.count > 20 ? ", …" : ""))"
    }
}
