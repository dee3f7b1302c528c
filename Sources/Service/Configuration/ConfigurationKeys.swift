/// Every configuration key TagTune knows, with its type, default and meaning.
/// One table serves the YAML file, the `TAGTUNE_…` environment variables and `--set`,
/// so a typo anywhere is caught as an unknown key instead of being silently ignored.
public struct ConfigurationKey: Sendable {
    public enum Kind: Sendable {
        case string
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case boolean
        case choice([String])
        case list            // comma-separated in the environment and flags, a sequence in YAML
    }

    public let path: String
    public let kind: Kind
    public let defaultValue: String
    public let help: String

    /// The environment variable that sets this key: `server.port` → `TAGTUNE_SERVER_PORT`.
    public var environmentName: String {
        "TAGTUNE_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension ConfigurationKey {
    public static let all: [ConfigurationKey] = [
        .init(path: "server.host", kind: .string, defaultValue: "127.0.0.1", help: "address to listen on"),
        .init(path: "server.port", kind: .integer(0...65535), defaultValue: "8080", help: "TCP port (0 picks a free one)"),
        .init(path: "server.public_dir", kind: .string, defaultValue: "Public", help: "folder served at /"),
        .init(path: "data_dir", kind: .string, defaultValue: "data", help: "folder for the database, datasets and artifacts"),
        .init(path: "log.level", kind: .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]),
              defaultValue: "info", help: "lowest log level written"),
        .init(path: "log.format", kind: .choice(["text", "json"]), defaultValue: "text", help: "log line format"),
        .init(path: "limits.max_body_bytes", kind: .integer(1024...(1 << 32)), defaultValue: "33554432",
              help: "largest request body accepted"),
        .init(path: "limits.max_image_pixels", kind: .integer(1...400_000_000), defaultValue: "50000000",
              help: "largest image (width × height) decoded"),
        .init(path: "limits.max_images_per_request", kind: .integer(1...1024), defaultValue: "32",
              help: "images in one tagging request"),
        .init(path: "limits.max_concurrent_requests", kind: .integer(1...100_000), defaultValue: "64",
              help: "requests processed at once; more are answered 429"),
        .init(path: "limits.request_timeout_seconds", kind: .number(0.1...3600), defaultValue: "60",
              help: "longest time a request may take"),
        .init(path: "models.dir", kind: .string, defaultValue: "models",
              help: "folder of CLIP checkpoints (one folder each); `tagtune pull` saves there"),
    ]

    public static func named(_ path: String) -> ConfigurationKey? { all.first { $0.path == path } }
}
