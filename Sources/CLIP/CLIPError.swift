/// Errors of checkpoint loading, tokenisation and encoding, each naming what was wrong.
public enum CLIPError: Error, Equatable, Sendable, CustomStringConvertible {
    case checkpoint(String)
    case config(String)
    case tokenizer(String)
    case unsupported(String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .checkpoint(let m): return "checkpoint: \(m)"
        case .config(let m): return "config: \(m)"
        case .tokenizer(let m): return "tokenizer: \(m)"
        case .unsupported(let m): return "unsupported: \(m)"
        case .invalidInput(let m): return "invalid input: \(m)"
        }
    }
}
