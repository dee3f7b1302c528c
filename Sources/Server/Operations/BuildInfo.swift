import Compute

/// What this binary is: reported by `/info` and `tagtune --version`.
public enum BuildInfo {
    public static let name = "tagtune"
    public static let version = "0.1.0"

    #if DEBUG
    public static let configuration = "debug"
    #else
    public static let configuration = "release"
    #endif

    #if compiler(>=6.3)
    public static let compiler = "swift 6.3+"
    #else
    public static let compiler = "swift 6"
    #endif

    /// The BLAS library the engine runs its matrix products on.
    public static var blas: String { BLAS.configuration }
}
