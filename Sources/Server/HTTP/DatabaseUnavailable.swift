import PostgresNIO

/// The shared database out of reach, as the API answers it.
extension StoreUnavailable {
    /// Whether `error` means the shared database cannot be reached now (not that a query is wrong):
    /// such requests answer 503 `database_unavailable`, and a client may try again.
    static func matches(_ error: any Error) -> Bool {
        if error is StoreUnavailable { return true }
        guard let error = error as? PSQLError else { return false }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed]
            .contains(error.code)
    }

    static let apiError = APIError(.serviceUnavailable, code: "database_unavailable",
                                   message: "the database cannot be reached; try again shortly")
}
