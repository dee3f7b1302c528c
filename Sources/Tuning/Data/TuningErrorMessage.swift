extension TuningError {
    /// The message without the `dataset:` style prefix, for problems that already say where they are.
    var bareMessage: String {
        switch self {
        case .dataset(let message), .invalidArgument(let message), .artifact(let message): return message
        default: return description
        }
    }
}
