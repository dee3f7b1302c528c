import Foundation

/// `database.url`: `postgres://user[:password]@host[:port]/database[?sslmode=disable|require]`
/// (`postgresql://` too; a password with special characters percent-encoded), or a Unix socket
/// folder as `?host=/path`. The password never appears in `description`.
struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var requireTLS: Bool
    var socketFolder: String?

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              ["postgres", "postgresql"].contains(scheme.lowercased())
        else { throw Invalid(description: "database.url must be postgres://user@host:port/database") }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        for name in query.keys where !["sslmode", "host"].contains(name) {
            throw Invalid(description: "database.url: unknown parameter '\(name)' (known: sslmode, host)")
        }
        socketFolder = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        guard let user = components.user, !user.isEmpty else { throw Invalid(description: "database.url names no user") }
        self.user = user
        password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else { throw Invalid(description: "database.url names no database") }
        database = path
        switch query["sslmode"] ?? "disable" {
        case "disable", "allow", "prefer": requireTLS = false
        case "require", "verify-ca", "verify-full": requireTLS = true
        case let mode: throw Invalid(description: "database.url: sslmode '\(mode)' is not one of disable, require, verify-full")
        }
    }

    var description: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }
}
