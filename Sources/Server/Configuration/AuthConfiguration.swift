/// API keys for the mutating routes (`auth.*`). Keys come from the file's `auth.api_keys` list or,
/// better for secrets, from `TAGTUNE_AUTH_API_KEYS` (comma-separated).
public struct AuthConfiguration: Sendable, Equatable {
    /// Shortest key accepted: a short key is a guessable key.
    public static let minimumKeyLength = 16

    public var apiKeys: [String]
    /// When set, the server refuses to start without keys (the production configuration sets it).
    public var required: Bool

    /// Keys are required on mutating routes whenever any are configured.
    public var isEnabled: Bool { !apiKeys.isEmpty }

    /// Checks the keys; `keySources` names where they came from, for the message.
    public init(apiKeys: [String], required: Bool, keySources: String = "configuration") throws {
        if required && apiKeys.isEmpty {
            throw ConfigurationError(
                "auth.required is true but no API key is configured: set auth.api_keys or TAGTUNE_AUTH_API_KEYS (comma-separated)")
        }
        for (index, key) in apiKeys.enumerated() {
            guard key.count >= Self.minimumKeyLength, key.allSatisfy({ $0.isASCII && $0.isPrintable }) else {
                throw ConfigurationError(
                    "auth.api_keys (from \(keySources == "default" ? "built-in default" : keySources)): key \(index + 1) must be at least \(Self.minimumKeyLength) printable ASCII characters without spaces")
            }
        }
        self.apiKeys = apiKeys
        self.required = required
    }
}
