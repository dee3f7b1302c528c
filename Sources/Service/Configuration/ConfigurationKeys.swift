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
        case optionalString  // a string that may be empty (empty: not set)
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
        // Slow clients: a connection that never finishes its headers, idles, or trickles its body.
        .init(path: "server.idle_timeout_seconds", kind: .number(0.1...3600), defaultValue: "30",
              help: "a connection is closed after this long without a complete request head, or idle between requests"),
        .init(path: "server.min_body_bytes_per_second", kind: .integer(0...(1 << 30)), defaultValue: "4096",
              help: "a request body arriving slower than this on average (after the grace period) is cut off; 0: no minimum"),
        .init(path: "server.body_grace_seconds", kind: .number(0...3600), defaultValue: "10",
              help: "time a request body may take before its minimum rate is enforced"),
        // Model registry and tagging.
        .init(path: "models.dir", kind: .string, defaultValue: "models",
              help: "folder of encoder checkpoints, one sub-folder each (Hugging Face or open_clip layout); `tagtune pull` saves there"),
        .init(path: "models.default", kind: .optionalString, defaultValue: "",
              help: "default encoder (a sub-folder name); empty: the default prompt set's encoder, else the only one"),
        .init(path: "prompt_sets.dir", kind: .string, defaultValue: "prompt-sets",
              help: "folder of prompt sets, one sub-folder each, relative to data_dir unless absolute; new ones are picked up without a restart"),
        .init(path: "prompt_sets.default", kind: .optionalString, defaultValue: "",
              help: "default prompt set (a sub-folder name); empty: the default encoder's only prompt set"),
        .init(path: "models.bundled", kind: .list, defaultValue: "",
              help: "name=path checkpoints linked into models.dir at start when absent (the demo model)"),
        .init(path: "prompt_sets.bundled", kind: .list, defaultValue: "",
              help: "name=path prompt sets copied into prompt_sets.dir at start when absent (the demo prompt set)"),
        .init(path: "batching.max_batch_size", kind: .integer(1...1024), defaultValue: "16",
              help: "images encoded together in one batched call"),
        .init(path: "batching.max_wait_ms", kind: .number(0...10_000), defaultValue: "5",
              help: "longest wait for a batch to fill once its first image is queued"),
        .init(path: "batching.max_queue", kind: .integer(1...1_000_000), defaultValue: "256",
              help: "images waiting for the encoder; beyond this, 429 at once"),
        .init(path: "auth.api_keys", kind: .list, defaultValue: "",
              help: "API keys accepted as `Authorization: Bearer <key>` on mutating /v1 routes"),
        .init(path: "auth.required", kind: .boolean, defaultValue: "false",
              help: "refuse to start without API keys"),
        // Datasets and tuning jobs.
        .init(path: "jobs.concurrency", kind: .integer(1...64), defaultValue: "1",
              help: "tuning jobs run at the same time"),
        .init(path: "datasets.max_upload_bytes", kind: .integer(1024...(1 << 40)), defaultValue: "1073741824",
              help: "largest dataset upload (the zip's bytes); more is answered 413"),
        .init(path: "datasets.max_inflated_bytes", kind: .integer(1024...(1 << 44)), defaultValue: "8589934592",
              help: "most bytes a dataset zip may inflate to (decompression-bomb limit)"),
        .init(path: "web.examples_dir", kind: .string, defaultValue: "demo/examples",
              help: "example images the web page offers, served read-only at /examples/"),
    ]

    public static func named(_ path: String) -> ConfigurationKey? { all.first { $0.path == path } }
}
