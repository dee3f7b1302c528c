import Foundation

/// Where the hub is and who asks: the base URL (`https://huggingface.co` unless `--endpoint` or
/// `HF_ENDPOINT` says otherwise, as huggingface_hub reads it) and an optional access token (`HF_TOKEN`),
/// sent as a bearer token to the hub only (the HTTP client drops it on redirects to another origin).
public struct HubEndpoint: Sendable, Equatable {
    public static let defaultURL = "https://huggingface.co"

    /// Base URL without a trailing slash.
    public let url: String
    public let token: String?

    public init(_ url: String, token: String? = nil) throws {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard let parsed = URLComponents(string: trimmed), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
              let host = parsed.host, !host.isEmpty, parsed.query == nil, parsed.fragment == nil else {
            throw HubError.invalidEndpoint(url)
        }
        self.url = trimmed
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `explicit` (the `--endpoint` flag) wins over `HF_ENDPOINT`, which wins over the public hub.
    public static func resolve(explicit: String?, environment: [String: String]) throws -> HubEndpoint {
        let url = explicit ?? environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultURL
        return try HubEndpoint(url, token: environment["HF_TOKEN"])
    }

    /// `GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true`: the commit and the file list,
    /// with sizes and LFS SHA-256 (the revision is quoted whole, so `refs/pr/1` stays one segment).
    public func modelInfoURL(_ repository: HubRepositoryID, revision: String) -> String {
        "\(url)/api/models/\(repository)/revision/\(Self.quote(revision, keepSlash: false))?blobs=true"
    }

    /// `{endpoint}/{repo}/resolve/{revision}/{path}`: the file itself, or a redirect to the CDN for LFS files.
    public func fileURL(_ repository: HubRepositoryID, revision: String, path: String) -> String {
        "\(url)/\(repository)/resolve/\(Self.quote(revision, keepSlash: false))/\(Self.quote(path, keepSlash: true))"
    }

    /// Percent-encodes all but RFC 3986's unreserved characters (and `/` in file paths), like Python's `quote`.
    static func quote(_ text: String, keepSlash: Bool) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        if keepSlash { allowed.insert("/") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
