/// Errors of datasets, training and evaluation, each naming what was wrong and where.
public enum TuningError: Error, Equatable, Sendable, CustomStringConvertible {
    case dataset(String)
    case invalidArgument(String)
    case artifact(String)
    case cancelled

    public var description: String {
        switch self {
        case .dataset(let m): return "dataset: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .artifact(let m): return "artifact: \(m)"
        case .cancelled: return "cancelled"
        }
    }
}
