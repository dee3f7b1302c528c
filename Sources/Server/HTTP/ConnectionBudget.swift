#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many connections the server accepts at once, from the process's descriptor limit: past it,
/// new connections wait in the listen backlog instead of taking the descriptors that the database,
/// model files and uploads need (1,100 idle sockets at `ulimit -n 1024` once made `/healthz` time out).
enum ConnectionBudget {
    /// Descriptors kept for everything but client connections.
    static let reserved = 128

    /// Raises the soft descriptor limit to the hard one (allowed without privileges), once at start.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    static var maxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 - reserved }
        let soft = Int(min(limit.rlim_cur, 1 << 20))   // RLIM_INFINITY is the largest value
        return max(16, soft - reserved)
    }
}
