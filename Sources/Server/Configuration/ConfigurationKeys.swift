import Compute
import Logging

/// Every configuration key TagTune knows: its path, kind, default and meaning, and where its value
/// lives in `ServerConfiguration`. One table serves the YAML file, the `TAGTUNE_…` environment
/// variables, `--set`, `--print-config` and the reference in docs/CONFIGURATION.md, so a typo
/// anywhere is caught as an unknown key, and resolving and printing are loops over it.
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
    /// Puts the checked value where it lives.
    let apply: @Sendable (inout ServerConfiguration, ConfigurationValue) -> Void
    /// The resolved value as text, for `--print-config`.
    let display: @Sendable (ServerConfiguration) -> String

    /// The environment variable that sets this key: `server.port` → `TAGTUNE_SERVER_PORT`.
    public var environmentName: String {
        "TAGTUNE_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension ConfigurationKey {
    typealias Field<T> = WritableKeyPath<ServerConfiguration, T> & Sendable

    static func string(_ path: String, _ field: Field<String>, _ defaultValue: String, _ help: String) -> ConfigurationKey {
        .init(path: path, kind: .string, defaultValue: defaultValue, help: help,
              apply: { $0[keyPath: field] = $1.string }, display: { $0[keyPath: field] })
    }
    static func optionalString(_ path: String, _ field: Field<String?>, _ help: String) -> ConfigurationKey {
        .init(path: path, kind: .optionalString, defaultValue: "", help: help,
              apply: { $0[keyPath: field] = $1.optionalString }, display: { $0[keyPath: field] ?? "" })
    }
    static func choice(_ path: String, _ options: [String], _ field: Field<String>, _ defaultValue: String, _ help: String) -> ConfigurationKey {
        .init(path: path, kind: .choice(options), defaultValue: defaultValue, help: help,
              apply: { $0[keyPath: field] = $1.string }, display: { $0[keyPath: field] })
    }
    static func integer(_ path: String, _ range: ClosedRange<Int>, _ field: Field<Int>, _ defaultValue: Int, _ help: String) -> ConfigurationKey {
        .init(path: path, kind: .integer(range), defaultValue: String(defaultValue), help: help,
              apply: { $0[keyPath: field] = $1.integer }, display: { String($0[keyPath: field]) })
    }
    static func number(_ path: String, _ range: ClosedRange<Double>, _ field: Field<Double>, _ defaultValue: String, _ help: String) -> ConfigurationKey {
        .init(path: path, kind: .number(range), defaultValue: defaultValue, help: help,
              apply: { $0[keyPath: field] = $1.number }, display: { String($0[keyPath: field]) })
    }
    static func boolean(_ path: String, _ field: Field<Bool>, _ defaultValue: Bool, _ help: String) -> ConfigurationKey {
        .init(path: path, kind: .boolean, defaultValue: String(defaultValue), help: help,
              apply: { $0[keyPath: field] = $1.boolean }, display: { String($0[keyPath: field]) })
    }
    static func list(_ path: String, _ field: Field<[String]>, _ help: String,
                     display: (@Sendable ([String]) -> String)? = nil) -> ConfigurationKey {
        .init(path: path, kind: .list, defaultValue: "", help: help,
              apply: { $0[keyPath: field] = $1.list },
              display: { configuration in display.map { $0(configuration[keyPath: field]) } ?? configuration[keyPath: field].joined(separator: ",") })
    }

    public static let all: [ConfigurationKey] = [
        string("server.host", \.host, "127.0.0.1", "address to listen on (the container sets 0.0.0.0)"),
        integer("server.port", 0...65535, \.port, 8080, "TCP port (0 picks a free one)"),
        string("server.public_dir", \.publicDirectory, "Public", "folder served at /"),
        string("data_dir", \.dataDirectory, "data", "folder for the database, datasets and artifacts"),
        .init(path: "log.level", kind: .choice(Logger.Level.allCases.map(\.rawValue)), defaultValue: "info", help: "lowest log level written",
              apply: { $0.logLevel = Logger.Level(rawValue: $1.string)! }, display: { $0.logLevel.rawValue }),
        choice("log.format", ["text", "json"], \.logFormat, "text", "log line format"),
        integer("limits.max_body_bytes", 1024...(1 << 32), \.limits.maxBodyBytes, 33_554_432, "largest request body accepted (32 MiB)"),
        integer("limits.max_image_pixels", 1...400_000_000, \.limits.maxImagePixels, 50_000_000,
                "largest image (width × height), checked before decoding"),
        integer("limits.max_images_per_request", 1...1024, \.limits.maxImagesPerRequest, 32, "images in one tagging request"),
        integer("limits.max_concurrent_requests", 1...100_000, \.limits.maxConcurrentRequests, 64,
                "requests processed at once; more are answered 429"),
        number("limits.request_timeout_seconds", 0.1...3600, \.limits.requestTimeoutSeconds, "60", "longest time a request may take"),
        // Slow clients: a connection that never finishes its headers, idles, or trickles its body.
        number("server.idle_timeout_seconds", 0.1...3600, \.connections.idleTimeoutSeconds, "30",
               "a connection is closed after this long without a complete request head, or idle between requests"),
        integer("server.min_body_bytes_per_second", 0...(1 << 30), \.connections.minBodyBytesPerSecond, 4096,
                "a request body arriving slower than this on average (after the grace period) is cut off; 0: no minimum"),
        number("server.body_grace_seconds", 0...3600, \.connections.bodyGraceSeconds, "10",
               "time a request body may take before its minimum rate is enforced"),
        // Model registry and tagging.
        string("models.dir", \.registry.modelsDirectory, "models",
               "folder of encoder checkpoints, one sub-folder each (Hugging Face or open_clip layout); `tagtune pull` saves there"),
        optionalString("models.default", \.registry.defaultModel,
                       "model used when a request names none; empty: the default prompt set's encoder, else the only one"),
        string("prompt_sets.dir", \.registry.promptSetsDirectory, "prompt-sets",
               "folder of prompt sets, one sub-folder each, inside data_dir unless absolute; new ones are found without a restart"),
        optionalString("prompt_sets.default", \.registry.defaultPromptSet,
                       "prompt set used when a request names none; empty: the one made default with PATCH, else the default model's only one"),
        list("models.bundled", \.registry.bundledModels,
             "name=path checkpoints linked into models.dir at start when absent (make serve: the demo model)"),
        choice("models.precision", Precision.allCases.map(\.rawValue), \.registry.precision, "f32",
               "precision of the models' weight products: bf16 halves the vision tower's memory and runs on AVX512_BF16 kernels; on CPUs without them the log says so and f32 serves"),
        list("models.precision_by_model", \.registry.precisionByModel,
             "name=f32 or name=bf16 entries that override models.precision for one model"),
        list("prompt_sets.bundled", \.registry.bundledPromptSets,
             "name=path prompt sets copied into prompt_sets.dir at start when absent (make serve: the demo prompt set)"),
        integer("batching.max_batch_size", 1...1024, \.batching.maxBatchSize, 16, "images encoded together in one batched call"),
        number("batching.max_wait_ms", 0...10_000, \.batching.maxWaitMilliseconds, "5",
               "longest wait for a batch to fill once its first image is queued"),
        integer("batching.max_queue", 1...1_000_000, \.batching.maxQueue, 256, "images waiting for the encoder; beyond this, 429 at once"),
        list("auth.api_keys", \.auth.apiKeys,
             "API keys (16+ printable characters) accepted as `Authorization: Bearer <key>` on POST, PATCH and DELETE under /v1",
             display: { $0.isEmpty ? "" : "(\($0.count) key\($0.count == 1 ? "" : "s"), not shown)" }),
        boolean("auth.required", \.auth.required, false, "refuse to start without API keys (true in config/tagtune.production.yaml)"),
        // Webhooks: set by the operator only.
        list("webhooks.endpoints", \.webhooks.endpoints,
             "http(s) URLs told of every finished tuning job and batch (succeeded, failed, cancelled), signed as Standard Webhooks do"),
        .init(path: "webhooks.secret", kind: .optionalString, defaultValue: "",
              help: "signing secret, whsec_ + base64 of 16+ random bytes; required with webhooks.endpoints",
              apply: { $0.webhooks.secret = $1.optionalString ?? "" }, display: { $0.webhooks.secret.isEmpty ? "" : "(set, not shown)" }),
        integer("webhooks.max_attempts", 1...100, \.webhooks.maxAttempts, 8, "attempts per delivery, the first included"),
        number("webhooks.initial_backoff_seconds", 0.01...3600, \.webhooks.initialBackoffSeconds, "1",
               "wait before the second attempt, doubled for each after (capped at 10 minutes)"),
        number("webhooks.timeout_seconds", 0.1...300, \.webhooks.timeoutSeconds, "10", "one attempt's time limit"),
        // Datasets and tuning jobs.
        integer("jobs.concurrency", 1...64, \.jobsConcurrency, 1, "tuning jobs run at the same time"),
        // Several replicas on one PostgreSQL database (docs/DEPLOY.md).
        .init(path: "database.url", kind: .optionalString, defaultValue: "",
              help: "postgres://user[:password]@host[:port]/database[?sslmode=require] shared by replicas; empty: SQLite under data_dir",
              apply: { $0.cluster.databaseURL = $1.optionalString },
              display: { $0.cluster.databaseURL.map { (try? PostgresURL($0).description) ?? "(set, not shown)" } ?? "" }),
        .init(path: "server.role", kind: .choice(ClusterConfiguration.Role.allCases.map(\.rawValue)), defaultValue: "all",
              help: "all: the API and jobs; api: the API, no jobs; worker: jobs and the operations endpoints only",
              apply: { $0.cluster.role = ClusterConfiguration.Role(rawValue: $1.string)! }, display: { $0.cluster.role.rawValue }),
        optionalString("replica.id", \.cluster.replicaID,
                       "this replica's name in job leases and events (Kubernetes: the pod name); empty: host-pid-random"),
        number("jobs.lease_seconds", 1...3600, \.cluster.leaseSeconds, "30",
               "a running job's lease; a replica that does not renew it for this long loses the job to the next claim"),
        number("jobs.heartbeat_seconds", 0.1...1800, \.cluster.heartbeatSeconds, "10", "how often the owner renews a job's lease"),
        number("jobs.claim_poll_seconds", 0.05...600, \.cluster.claimPollSeconds, "5",
               "how often an idle worker looks for jobs queued elsewhere or whose lease expired"),
        integer("jobs.max_attempts", 1...100, \.cluster.maxAttempts, 4,
                "times a job may lose its server (crash, kill, partition) before it fails with worker_lost"),
        number("prompt_sets.sweep_seconds", 0.1...3600, \.cluster.promptSetSweepSeconds, "30",
               "with database.url: how often a replica compares its prompt sets with the database's, besides being notified at once"),
        number("metrics.cluster_seconds", 0.1...3600, \.cluster.clusterGaugeSeconds, "5",
               "with database.url: how often the one replica that exports the cluster's job gauges (tagtune_tuning_jobs, tagtune_batch_jobs) reads them; another takes over within this"),
        number("housekeeping.interval_seconds", 1...86_400, \.cluster.housekeepingSeconds, "600",
               "how often housekeeping runs (one replica at a time): event retention, blobs no dataset names"),
        number("jobs.event_retention_days", 0...36_500, \.cluster.eventRetentionDays, "30",
               "finished jobs' events older than this are deleted by housekeeping; 0: kept forever"),
        string("blobs.dir", \.cluster.blobsDirectory, "blobs",
               "validated dataset zips by SHA-256, inside data_dir unless absolute; replicas share one folder (NFS, a ReadWriteMany volume)"),
        string("batches.dir", \.cluster.batchesDirectory, "batches",
               "batch folders (an uploaded zip, then its results), inside data_dir unless absolute; replicas share one folder"),
        string("features.dir", \.cluster.featuresDirectory, "features",
               "image features by encoder and image digest, inside data_dir unless absolute; replicas may share one folder (a job taken over encodes nothing again)"),
        string("cache.dir", \.cluster.cacheDirectory, "cache",
               "this replica's own cache of datasets unpacked from their blobs, inside data_dir unless absolute"),
        integer("datasets.max_upload_bytes", 1024...(1 << 40), \.datasetMaxUploadBytes, 1_073_741_824,
                "largest dataset upload (the zip's bytes, 1 GiB); more is answered 413"),
        integer("datasets.max_inflated_bytes", 1024...(1 << 44), \.datasetMaxInflatedBytes, 8_589_934_592,
                "most bytes a dataset zip may inflate to (8 GiB, the decompression-bomb limit)"),
        string("web.examples_dir", \.examplesDirectory, "demo/examples", "example images the web page offers, served read-only at /examples/"),
    ]

    public static func named(_ path: String) -> ConfigurationKey? { all.first { $0.path == path } }

    /// The reference table of docs/CONFIGURATION.md (`tagtune serve --print-config-keys`).
    public static var markdownTable: String {
        var lines = ["| key | environment | default | meaning |", "|---|---|---|---|"]
        for key in all {
            let value = key.defaultValue.isEmpty ? "(empty)" : "`\(key.defaultValue)`"
            lines.append("| `\(key.path)` | `\(key.environmentName)` | \(value) | \(key.help.replacingOccurrences(of: "|", with: "\\|")) |")
        }
        return lines.joined(separator: "\n")
    }
}
