import PostgresNIO

/// The shared database out of reach, as the API answers it.
extension StoreUnavailable {
    /// Whether `error` means the shared database cannot be reached now (not that a query is wrong):
    /// such requests answer 503 `database_unavailable`, and a client may try again.
    static func matches(_ error: any Error) -> Bool {
        if error is StoreUnavailable { return true }
        guard let error = error as? PSQLError else { return false }
        if error.code == .server, let state = error.serverInfo?[.sqlState] { return unavailable(sqlState: state) }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed]
            .contains(error.code)
    }

    /// SQLSTATEs the server sends when it, not the query, is the problem: connection exceptions
    /// (class 08), shutting down or starting up (57P01 admin shutdown, 57P02 crash shutdown, 57P03
    /// cannot connect now), too many connections (53300). A request in flight when PostgreSQL
    /// restarts got 57P01 and answered 500.
    static func unavailable(sqlState: String) -> Bool {
        sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(sqlState)
    }

    static let apiError = APIError(.serviceUnavailable, code: "database_unavailable",
                                   message: "the database cannot be reached; try again shortly")
}
