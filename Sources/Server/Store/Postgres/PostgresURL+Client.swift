import PostgresNIO

extension PostgresURL {
    /// postgres-nio's client settings for this URL.
    var clientConfiguration: PostgresClient.Configuration {
        if let socketFolder {
            return .init(unixSocketPath: socketFolder + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        return .init(host: host, port: port, username: user, password: password, database: database,
                     tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
    }
}
