import Foundation
import Testing
@testable import Server

/// Precedence (default < file < environment < flag) and clear errors for bad input.
@Suite("Server configuration")
struct ServerConfigurationTests {
    func writeYAML(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func defaultsWithoutAnyLayer() throws {
        let configuration = try ServerConfiguration.load(file: nil, environment: [:], flags: [:])
        #expect(configuration.port == 8080 || configuration.sources["server.port"] != "default")
        let bare = try ServerConfiguration.defaults
        #expect(bare.port == 8080)
        #expect(bare.host == "127.0.0.1")
        #expect(bare.logLevel == .info)
    }

    @Test func fileThenEnvironmentThenFlags() throws {
        let path = try writeYAML("""
            server:
              port: 9000
              host: 0.0.0.0
            log:
              level: debug
            limits:
              max_images_per_request: 5
            """)
        let fromFile = try ServerConfiguration.load(file: path, environment: [:], flags: [:])
        #expect(fromFile.port == 9000)
        #expect(fromFile.host == "0.0.0.0")
        #expect(fromFile.logLevel == .debug)
        #expect(fromFile.limits.maxImagesPerRequest == 5)
        #expect(fromFile.sources["server.port"] == path)

        let fromEnvironment = try ServerConfiguration.load(
            file: path, environment: ["TAGTUNE_SERVER_PORT": "9100", "PATH": "/bin"], flags: [:])
        #expect(fromEnvironment.port == 9100)
        #expect(fromEnvironment.host == "0.0.0.0")
        #expect(fromEnvironment.sources["server.port"] == "environment")

        let fromFlags = try ServerConfiguration.load(
            file: path, environment: ["TAGTUNE_SERVER_PORT": "9100"], flags: ["server.port": "9200"])
        #expect(fromFlags.port == 9200)
        #expect(fromFlags.sources["server.port"] == "flag")
        #expect(fromFlags.logLevel == .debug)
    }

    /// Every key set to a value of its own through --set lands where the key table says, and
    /// --print-config shows it back: resolving and printing are the same loop over the table.
    @Test func everyKeyResolvesAndPrintsThroughItsTableEntry() throws {
        var flags: [String: String] = [:]
        for key in ConfigurationKey.all {
            switch key.kind {
            case .string, .optionalString:
                flags[key.path] = switch key.path {
                case "webhooks.secret": WebhookTests.secret
                case "database.url": "postgres://set@db.example:6543/tagtune"
                default: "/set/\(key.path)"
                }
            case .integer(let range): flags[key.path] = String(range.lowerBound + 1)
            case .number(let range): flags[key.path] = String(range.lowerBound + 0.5)
            case .boolean: flags[key.path] = "false"
            case .choice(let options): flags[key.path] = options.last!
            case .list:
                flags[key.path] = switch key.path {
                case "auth.api_keys": "0123456789abcdef-set"
                case "models.precision_by_model": "a=bf16,b=f32"
                case "webhooks.endpoints": "http://a.example/x,https://b.example/y"
                default: "a=/x,b=/y"
                }
            }
        }
        let configuration = try ServerConfiguration.load(file: try writeYAML(""), environment: [:], flags: flags)
        for key in ConfigurationKey.all {
            #expect(configuration.sources[key.path] == "flag", "\(key.path)")
            let shown = try configuration.displayValue(key.path)
            switch key.path {
            case "auth.api_keys": #expect(shown == "(1 key, not shown)")
            case "webhooks.secret": #expect(shown == "(set, not shown)")
            default:
                if case .number = key.kind { #expect(Double(shown) == Double(flags[key.path]!), "\(key.path)") }
                else { #expect(shown == flags[key.path], "\(key.path): \(shown)") }
            }
        }
        #expect(configuration.port == 1 && configuration.limits.maxImagesPerRequest == 2 && configuration.batching.maxWaitMilliseconds == 0.5)
        #expect(configuration.registry.bundledModels == ["a=/x", "b=/y"] && configuration.registry.defaultPromptSet == "/set/prompt_sets.default")
        #expect(configuration.auth.apiKeys == ["0123456789abcdef-set"] && configuration.logLevel == .critical)
    }

    /// Precision per model: each entry is name=f32 or name=bf16, a model is named once, and the
    /// default applies to the rest; anything else stops the start with the entry named.
    @Test func precisionByModelIsCheckedAtStart() throws {
        let configuration = try ServerConfiguration.load(
            file: nil, environment: ["TAGTUNE_MODELS_PRECISION": "bf16"], flags: ["models.precision_by_model": "demo=f32"])
        #expect(configuration.registry.precision(for: "demo") == .f32)
        #expect(configuration.registry.precision(for: "other") == .bf16)
        for bad in ["demo=fp16", "demo", "=bf16", "demo=f32,demo=bf16"] {
            let error = #expect(throws: ConfigurationError.self) {
                try ServerConfiguration.load(file: nil, environment: [:], flags: ["models.precision_by_model": bad])
            }
            #expect(error.map { "\($0)" }?.contains("models.precision_by_model") == true, "\(bad): \(String(describing: error))")
        }
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: nil, environment: [:], flags: ["models.precision": "fp16"])
        }
    }

    @Test func theConfigurationReferenceIsTheKeyTable() throws {
        let docs = try String(contentsOf: TagFixtures.repository.appendingPathComponent("docs/CONFIGURATION.md"), encoding: .utf8)
        let marker = try #require(docs.range(of: "<!-- generated: tagtune serve --print-config-keys"))
        let start = try #require(docs.range(of: "-->\n", range: marker.upperBound..<docs.endIndex))
        let end = try #require(docs.range(of: "\n<!-- end generated -->"))
        #expect(String(docs[start.upperBound..<end.lowerBound]) == ConfigurationKey.markdownTable,
                "docs/CONFIGURATION.md's table is stale: paste `tagtune serve --print-config-keys` between its markers")
    }

    @Test func configFileFromEnvironment() throws {
        let path = try writeYAML("data_dir: /tmp/tagtune-data\n")
        let configuration = try ServerConfiguration.load(file: nil, environment: ["TAGTUNE_CONFIG": path], flags: [:])
        #expect(configuration.dataDirectory == "/tmp/tagtune-data")
    }

    @Test func unknownFileKeyIsRejectedWithSuggestion() throws {
        let path = try writeYAML("server:\n  prot: 9000\n")
        let error = #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: path, environment: [:], flags: [:])
        }
        #expect(error?.description.contains("server.prot") == true)
        #expect(error?.description.contains("did you mean 'server.port'") == true)
    }

    @Test func unknownEnvironmentVariableIsRejected() {
        let error = #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: nil, environment: ["TAGTUNE_SERVER_PROT": "1"], flags: [:])
        }
        #expect(error?.description.contains("TAGTUNE_SERVER_PROT") == true)
    }

    @Test(arguments: [
        ("server.port", "70000", "an integer in 0...65535"),
        ("server.port", "eighty", "an integer"),
        ("log.level", "loud", "one of trace"),
        ("limits.request_timeout_seconds", "nan", "a number"),
        ("limits.max_body_bytes", "-1", "an integer"),
    ])
    func invalidValuesStopWithAClearMessage(key: String, value: String, expected: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: nil, environment: [:], flags: [key: value])
        }
        #expect(error?.description.contains(key) == true)
        #expect(error?.description.contains(expected) == true)
        #expect(error?.description.contains("'\(value)'") == true)
    }

    @Test func missingExplicitFileIsAnError() {
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: "/nonexistent/tagtune.yaml", environment: [:], flags: [:])
        }
    }

    @Test func malformedYAMLIsAnError() throws {
        let path = try writeYAML("server: [unclosed\n")
        let error = #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: path, environment: [:], flags: [:])
        }
        #expect(error?.description.contains("not valid YAML") == true)
    }

    @Test func shippedConfigurationLoads() throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/tagtune.yaml").path
        let configuration = try ServerConfiguration.load(file: shipped, environment: [:], flags: [:])
        #expect(configuration.port == 8080)
        #expect(ConfigurationKey.all.allSatisfy { configuration.sources[$0.path] == shipped },
                "the shipped file documents every key")
    }

    /// A key that is a mapping (`{a: 1}: 2`) made Yams force-unwrap nil: a trap instead of an
    /// error at start-up (found by the configuration fuzz target, Fuzz/regressions/configuration).
    @Test func aKeyThatIsAMappingIsAConfigurationError() throws {
        let input = TagFixtures.repository.appendingPathComponent("Fuzz/regressions/configuration/mapping-as-key")
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: input.path, environment: [:], flags: [:])
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-key-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("server:\n  [port]: 8080\n".utf8).write(to: file)
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: file.path, environment: [:], flags: [:])
        }
    }
}
