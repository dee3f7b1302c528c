import Foundation
import Logging
import Yams

/// The server's settings, resolved from (lowest to highest precedence) built-in defaults,
/// the YAML file, `TAGTUNE_…` environment variables and command-line flags.
public struct ServerConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var publicDirectory: String
    public var dataDirectory: String
    public var logLevel: Logger.Level
    public var logFormat: String
    public var limits: Limits
    /// Timeouts for slow or idle connections (header read, idle, body rate).
    public var connections: ConnectionLimits
    /// Models folder, prompt-sets folder and their defaults.
    public var registry: RegistryConfiguration
    /// How concurrent tagging requests share the encoder.
    public var batching: BatchingConfiguration
    /// API keys for mutating routes.
    public var auth: AuthConfiguration
    /// Signed notifications of finished jobs and batches.
    public var webhooks: WebhookConfiguration
    /// Tuning jobs run at once (`jobs.concurrency`).
    public var jobsConcurrency: Int
    /// The shared database, this replica's role and name, job leases.
    public var cluster: ClusterConfiguration
    /// Dataset upload limits: the zip's bytes, and what it may inflate to.
    public var datasetMaxUploadBytes: Int
    public var datasetMaxInflatedBytes: Int
    /// Encoder checkpoints (`models.dir`) and prompt sets (`prompt_sets.dir`), one folder each.
    public var modelsDirectory: String {
        get { registry.modelsDirectory }
        set { registry.modelsDirectory = newValue }
    }
    public var promptSetsDirectory: String {
        get { registry.promptSetsDirectory }
        set { registry.promptSetsDirectory = newValue }
    }
    /// Example images for the web page, served read-only at `/examples/` (`web.examples_dir`).
    public var examplesDirectory: String
    /// Where each value came from ("default", the file's path, "environment", "flag"): shown at start-up.
    public var sources: [String: String]

    public struct Limits: Sendable, Equatable, Codable {
        public var maxBodyBytes: Int
        public var maxImagePixels: Int
        public var maxImagesPerRequest: Int
        public var maxConcurrentRequests: Int
        public var requestTimeoutSeconds: Double

        enum CodingKeys: String, CodingKey {
            case maxBodyBytes = "max_body_bytes"
            case maxImagePixels = "max_image_pixels"
            case maxImagesPerRequest = "max_images_per_request"
            case maxConcurrentRequests = "max_concurrent_requests"
            case requestTimeoutSeconds = "request_timeout_seconds"
        }
    }

    /// What a connection may cost before it is closed: enforced in the channel pipeline, below the
    /// routes, so a slow client never holds a request slot (nor a descriptor) for long.
    public struct ConnectionLimits: Sendable, Equatable {
        /// No complete request head within this time of the connection opening or of the last
        /// response, or no byte of the request while it is read: the connection is closed.
        public var idleTimeoutSeconds: Double
        /// Average body rate required once `bodyGraceSeconds` have passed (0: none).
        public var minBodyBytesPerSecond: Int
        public var bodyGraceSeconds: Double
    }

    /// Built-in defaults only.
    public static var defaults: ServerConfiguration {
        get throws { try resolve(layers: []) }
    }

    /// Loads the layers in order of precedence and validates every value.
    /// - Parameters:
    ///   - file: path of a YAML (or JSON) file; `nil` reads `config/tagtune.yaml` when it exists.
    ///   - environment: the process environment; only `TAGTUNE_…` names are read.
    ///   - flags: values from the command line, by key path.
    public static func load(
        file: String?, environment: [String: String], flags: [String: String]
    ) throws -> ServerConfiguration {
        var layers: [(String, [String: String])] = []
        let explicitFile = file ?? environment["TAGTUNE_CONFIG"]
        let path = explicitFile ?? "config/tagtune.yaml"
        if FileManager.default.fileExists(atPath: path) {
            layers.append((path, try readFile(path)))
        } else if explicitFile != nil {
            throw ConfigurationError("configuration file \(path) does not exist")
        }
        layers.append(("environment", try readEnvironment(environment)))
        for key in flags.keys where ConfigurationKey.named(key) == nil {
            throw ConfigurationError("unknown configuration key '\(key)' given on the command line\(suggestion(for: key))")
        }
        layers.append(("flag", flags))
        return try resolve(layers: layers)
    }

    /// Parses a YAML/JSON file into key paths, rejecting unknown keys.
    static func readFile(_ path: String) throws -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError("cannot read configuration file \(path): \(error.localizedDescription)")
        }
        let tree: Any?
        do {
            // Yams.load force-unwraps a key that is a list or a mapping (a trap found by fuzzing): refuse those first.
            if let node = try Yams.compose(yaml: text), hasKeyThatIsNotAName(node) {
                throw ConfigurationError("configuration file \(path) has a key that is a list or a mapping; keys are names")
            }
            tree = try Yams.load(yaml: text)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("configuration file \(path) is not valid YAML: \(error)")
        }
        guard let tree else { return [:] }
        guard let root = tree as? [String: Any] else {
            throw ConfigurationError("configuration file \(path) must be a mapping of keys to values")
        }
        var flat: [String: String] = [:]
        try flatten(root, prefix: "", into: &flat, file: path)
        return flat
    }

    private static func hasKeyThatIsNotAName(_ node: Node) -> Bool {
        switch node {
        case .mapping(let mapping):
            return mapping.contains { pair in
                if case .scalar = pair.key { return hasKeyThatIsNotAName(pair.value) } else { return true }
            }
        case .sequence(let sequence):
            return sequence.contains(where: hasKeyThatIsNotAName)
        case .scalar, .alias:
            return false
        }
    }

    private static func flatten(_ node: [String: Any], prefix: String, into flat: inout [String: String], file: String) throws {
        for (name, value) in node {
            let path = prefix.isEmpty ? name : prefix + "." + name
            if let child = value as? [String: Any] {
                try flatten(child, prefix: path, into: &flat, file: file)
                continue
            }
            guard ConfigurationKey.named(path) != nil else {
                throw ConfigurationError("unknown configuration key '\(path)' in \(file)\(suggestion(for: path))")
            }
            if let sequence = value as? [Any] {
                flat[path] = sequence.map { "\($0)" }.joined(separator: ",")
            } else {
                flat[path] = "\(value)"
            }
        }
    }

    static func readEnvironment(_ environment: [String: String]) throws -> [String: String] {
        let byName = Dictionary(uniqueKeysWithValues: ConfigurationKey.all.map { ($0.environmentName, $0.path) })
        var values: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("TAGTUNE_") && name != "TAGTUNE_CONFIG" {
            guard let path = byName[name] else {
                let known = byName.keys.sorted().joined(separator: ", ")
                throw ConfigurationError("unknown environment variable \(name) (known: TAGTUNE_CONFIG, \(known))")
            }
            values[path] = value
        }
        return values
    }

    private static func suggestion(for path: String) -> String {
        let known = ConfigurationKey.all.map(\.path)
        if let close = known.min(by: { editDistance($0, path) < editDistance($1, path) }), editDistance(close, path) <= 3 {
            return "; did you mean '\(close)'?"
        }
        return " (known keys: \(known.joined(separator: ", ")))"
    }

    /// A relative folder is inside `data_dir`: prompt sets are data the API writes, so `--data-dir`
    /// alone moves them with the rest (they used to stay in the working directory).
    static func under(_ dataDirectory: String, _ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: dataDirectory).appendingPathComponent(path).path
    }

    static func resolve(layers: [(String, [String: String])]) throws -> ServerConfiguration {
        var raw: [String: String] = [:]
        var sources: [String: String] = [:]
        for key in ConfigurationKey.all {
            raw[key.path] = key.defaultValue
            sources[key.path] = "default"
        }
        for (source, values) in layers {
            for (path, value) in values {
                raw[path] = value
                sources[path] = source
            }
        }
        var configuration = ServerConfiguration.unset
        for key in ConfigurationKey.all {
            key.apply(&configuration, try ConfigurationValue(parsing: raw[key.path]!, for: key, source: sources[key.path]!))
        }
        // What depends on more than one key: a relative prompt-sets folder lives in data_dir, and
        // the keys are checked together with auth.required.
        configuration.registry.promptSetsDirectory = under(configuration.dataDirectory, configuration.registry.promptSetsDirectory)
        configuration.auth = try AuthConfiguration(apiKeys: configuration.auth.apiKeys, required: configuration.auth.required,
                                                   keySources: sources["auth.api_keys"] ?? "default")
        try configuration.registry.checkPrecisionByModel()
        configuration.webhooks = try configuration.webhooks.validated()
        configuration.cluster = try configuration.cluster.validated()
        configuration.sources = sources
        return configuration
    }

    /// The value every key then overwrites.
    private static var unset: ServerConfiguration {
        ServerConfiguration(
            host: "", port: 0, publicDirectory: "", dataDirectory: "", logLevel: .info, logFormat: "",
            limits: Limits(maxBodyBytes: 0, maxImagePixels: 0, maxImagesPerRequest: 0, maxConcurrentRequests: 0, requestTimeoutSeconds: 0),
            connections: ConnectionLimits(idleTimeoutSeconds: 0, minBodyBytesPerSecond: 0, bodyGraceSeconds: 0),
            registry: RegistryConfiguration(modelsDirectory: "", defaultModel: nil, promptSetsDirectory: "", defaultPromptSet: nil),
            batching: BatchingConfiguration(maxBatchSize: 0, maxWaitMilliseconds: 0, maxQueue: 0),
            auth: try! AuthConfiguration(apiKeys: [], required: false),   // no keys, not required: cannot throw
            webhooks: WebhookConfiguration(endpoints: [], secret: "", maxAttempts: 0, initialBackoffSeconds: 0, timeoutSeconds: 0),
            jobsConcurrency: 0,
            cluster: ClusterConfiguration(databaseURL: nil, role: .all, replicaID: nil, leaseSeconds: 0, heartbeatSeconds: 0,
                                          claimPollSeconds: 0, maxAttempts: 0),
            datasetMaxUploadBytes: 0, datasetMaxInflatedBytes: 0, examplesDirectory: "", sources: [:])
    }
}

/// A configuration problem, worded for the person starting the server.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A raw string checked against its key's kind.
struct ConfigurationValue {
    private(set) var string: String
    private(set) var integer: Int
    private(set) var number: Double

    /// A `.list` value's items: comma-separated, trimmed, empty items dropped.
    var list: [String] {
        string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    /// A `.boolean` value.
    var boolean: Bool { string.lowercased() == "true" }
    /// An `.optionalString` value: nil when empty.
    var optionalString: String? { string.isEmpty ? nil : string }

    init(parsing text: String, for key: ConfigurationKey, source: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let origin = source == "default" ? "built-in default" : source
        func invalid(_ expected: String) -> ConfigurationError {
            ConfigurationError("invalid value '\(text)' for \(key.path) (from \(origin)): expected \(expected)")
        }
        string = trimmed
        integer = 0
        number = 0
        switch key.kind {
        case .string:
            if trimmed.isEmpty { throw invalid("a non-empty string") }
        case .list, .optionalString:
            break
        case .boolean:
            guard ["true", "false"].contains(trimmed.lowercased()) else { throw invalid("true or false") }
        case .choice(let options):
            guard options.contains(trimmed) else { throw invalid("one of \(options.joined(separator: ", "))") }
        case .integer(let range):
            guard let parsed = Int(trimmed), range.contains(parsed) else {
                throw invalid("an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            integer = parsed
            number = Double(parsed)
        case .number(let range):
            guard let parsed = Double(trimmed), parsed.isFinite, range.contains(parsed) else {
                throw invalid("a number in \(range.lowerBound)...\(range.upperBound)")
            }
            number = parsed
        }
    }
}

/// Levenshtein distance, for "did you mean" suggestions on misspelt keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}

extension ServerConfiguration {
    /// The resolved value of a key as text, for `--print-config`.
    public func displayValue(_ path: String) throws -> String {
        guard let key = ConfigurationKey.named(path) else { throw ConfigurationError("unknown configuration key '\(path)'") }
        return key.display(self)
    }
}
