import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// API keys: configuration (file, environment, the production file), the 401s, and reads left open.
@Suite("API keys")
struct AuthTests {
    static let keys = ["first-key-0123456789abcdef", "second-key-0123456789abcdef"]

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }

    @Test func keysComeFromTheEnvironmentAndAreChecked() throws {
        let configured = try ServerConfiguration.load(
            file: nil, environment: ["TAGTUNE_AUTH_API_KEYS": " \(Self.keys[0]) , \(Self.keys[1]),"], flags: [:])
        #expect(configured.auth.apiKeys == Self.keys)
        #expect(configured.auth.isEnabled)
        #expect(try configured.displayValue("auth.api_keys") == "(2 keys, not shown)", "keys never printed")

        let required = #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: nil, environment: [:], flags: ["auth.required": "true"])
        }
        #expect(required?.description.contains("TAGTUNE_AUTH_API_KEYS") == true)
        let short = #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: nil, environment: ["TAGTUNE_AUTH_API_KEYS": "short"], flags: [:])
        }
        #expect(short?.description.contains("at least 16") == true)
        #expect(short?.description.contains("short") == false, "the key itself is not echoed")
    }

    @Test func theProductionConfigurationRequiresKeysAndTheDemoOneDoesNot() throws {
        let production = TagFixtures.repository.appendingPathComponent("config/tagtune.production.yaml").path
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.load(file: production, environment: [:], flags: [:]) }
        let served = try ServerConfiguration.load(file: production, environment: ["TAGTUNE_AUTH_API_KEYS": Self.keys[0]], flags: [:])
        #expect(served.auth.required && served.auth.apiKeys == [Self.keys[0]])
        #expect(ConfigurationKey.all.allSatisfy { served.sources[$0.path] != "default" }, "the production file sets every key")

        let demoPath = TagFixtures.repository.appendingPathComponent("config/tagtune.yaml").path
        let demo = try ServerConfiguration.load(file: demoPath, environment: [:], flags: [:])
        #expect(!demo.auth.required && demo.auth.apiKeys.isEmpty)
        #expect(try String(contentsOfFile: demoPath, encoding: .utf8).contains("requires NO API key"))
    }

    @Test func keysAreComparedWholeInConstantTime() {
        let set = APIKeySet(Self.keys)
        #expect(set.contains(Self.keys[0]) && set.contains(Self.keys[1]))
        #expect(!set.contains(""))
        #expect(!set.contains(String(Self.keys[0].dropLast())))
        #expect(!set.contains(Self.keys[0] + "x"))
        #expect(!set.contains(Self.keys[0].uppercased()))
        #expect(APIKeySet.equal(Array("abc".utf8), Array("abc".utf8)) == 1)
        #expect(APIKeySet.equal(Array("abc".utf8), Array("abd".utf8)) == 0)
        #expect(APIKeySet.equal(Array("abc".utf8), Array("abc\0".utf8)) == 0, "a NUL pad is not equal")
        #expect(APIKeySet([]).isEmpty)
    }

    @Test func mutatingRoutesNeedAKeyWhenKeysAreConfigured() async throws {
        var server = try await TagTestServer()
        defer { server.remove() }
        server.configuration.auth = try AuthConfiguration(apiKeys: Self.keys, required: true)
        let png = try TagFixtures.image("png_rgb.png")
        let before = try server.manifestData("shapes")
        let fixture = server
        try await server.withReadyClient { client async throws in
            let missing = try await client.tagRaw(png)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            let missingError = try TagErrorBody.decode(missing)
            #expect(missingError.code == "missing_api_key")
            #expect(missingError.type == "authentication_error")

            let wrong = try await client.tagRaw(png, headers: Self.bearer("wrong-key-0123456789abcdef"))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
            #expect(try TagErrorBody.decode(wrong).code == "invalid_api_key")

            let basic = try await client.tagRaw(png, headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(basic.status == .unauthorized)
            #expect(try TagErrorBody.decode(basic).code == "invalid_authorization")

            for key in Self.keys {
                let ok = try await client.tagRaw(png, headers: Self.bearer(key))
                #expect(ok.status == .ok, "\(String(buffer: ok.body))")
            }
            let lowercaseScheme = try await client.tagRaw(png, headers: [.authorization: "bearer \(Self.keys[0])"])
            #expect(lowercaseScheme.status == .ok)

            // PATCH too, and a refused one changes nothing.
            let patch = try await client.execute(uri: "/v1/prompt-sets/shapes", method: .patch, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"thresholds": {"cat": 0.1}}"#))
            #expect(patch.status == .unauthorized)
            #expect(try fixture.manifestData("shapes") == before)
            var authorized = Self.bearer(Self.keys[1])
            authorized[.contentType] = "application/json"
            let allowed = try await client.execute(uri: "/v1/prompt-sets/shapes", method: .patch, headers: authorized,
                                                   body: ByteBuffer(string: #"{"thresholds": {"cat": 0.1}}"#))
            #expect(allowed.status == .ok)

            // Reads and operations stay open.
            for uri in ["/v1/models", "/v1/prompt-sets", "/v1/prompt-sets/shapes", "/healthz", "/readyz", "/info", "/metrics"] {
                #expect(try await client.execute(uri: uri, method: .get).status == .ok, "\(uri)")
            }
            let info = try jsonObject(try await client.execute(uri: "/info", method: .get))
            #expect(info["auth_required"] as? Bool == true)
        }
    }

    @Test func withoutKeysNothingIsAsked() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let png = try TagFixtures.image("png_rgb.png")
        try await server.withReadyClient { client async throws in
            #expect(try await client.tagRaw(png).status == .ok)
            #expect(try await client.tagRaw(png, headers: Self.bearer("anything-at-all-0123456789")).status == .ok)
        }
    }
}
