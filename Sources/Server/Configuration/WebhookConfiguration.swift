import Foundation

/// Where job and batch outcomes are posted, set by the operator only (API callers cannot name a URL,
/// so the server cannot be made to request one for them), and how deliveries are retried.
public struct WebhookConfiguration: Sendable, Equatable {
    /// http(s) URLs; empty: no webhooks.
    public var endpoints: [String]
    /// `whsec_` + base64 of the signing key (Standard Webhooks); required with endpoints.
    public var secret: String
    /// Attempts per delivery, the first included.
    public var maxAttempts: Int
    /// Wait before the second attempt; doubled for each one after (with up to 20 % jitter), capped at 10 minutes.
    public var initialBackoffSeconds: Double
    /// One attempt's limit, connecting and answering together.
    public var timeoutSeconds: Double

    public var isEnabled: Bool { !endpoints.isEmpty }

    /// The signing key: the bytes the secret's base64 stands for.
    var key: [UInt8] { Self.key(of: secret) ?? [] }

    static func key(of secret: String) -> [UInt8]? {
        guard secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) else { return nil }
        return [UInt8](data)
    }

    /// Checks the endpoints and the secret together (they are separate keys).
    func validated() throws -> WebhookConfiguration {
        for endpoint in endpoints {
            guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  url.host?.isEmpty == false else {
                throw ConfigurationError("webhooks.endpoints: '\(endpoint)' is not an http or https URL")
            }
        }
        guard isEnabled else { return self }
        guard let key = Self.key(of: secret), key.count >= 16 else {
            throw ConfigurationError("webhooks.secret must be whsec_ followed by the base64 of at least 16 random bytes "
                                     + "(e.g. whsec_$(head -c 32 /dev/urandom | base64)) when webhooks.endpoints is set")
        }
        return self
    }
}
