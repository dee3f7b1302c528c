import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The hub's HTTP API as TagTune uses it, on AsyncHTTPClient: model metadata and file downloads,
/// with the hub's error headers (`X-Error-Code`, `X-Error-Message`) turned into `HubError`s.
struct HubClient: Sendable {
    let http: HTTPClient
    let endpoint: HubEndpoint
    let userAgent: String

    /// How long the hub may take to send a response's head; a stalled body is caught by the
    /// client's read timeout instead, so large files are not cut off by a total deadline.
    static let headTimeout: TimeAmount = .seconds(60)

    /// Follows up to 5 redirects (the hub sends LFS files to its CDN, renamed repositories to their
    /// new name); the response's `history` keeps each hop's headers. A refused connection is retried
    /// by the client until `connectTimeout`; a body that stalls for 60 s fails (and is resumed).
    static func configuration(connectTimeout: Duration) -> HTTPClient.Configuration {
        let milliseconds = connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000
        return HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .milliseconds(max(1, milliseconds)), read: .seconds(60)),
            decompression: .disabled)
    }

    func request(_ url: String, headers extra: [(String, String)] = []) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: userAgent)
        // The real bytes: sizes and digests are of the file, never of a compressed transfer.
        request.headers.add(name: "Accept-Encoding", value: "identity")
        if let token = endpoint.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        return request
    }

    func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        try await http.execute(request, timeout: Self.headTimeout)
    }

    /// The commit a revision points at and the files in it, with sizes and LFS digests.
    func modelInfo(_ repository: HubRepositoryID, revision: String) async throws -> HubModelInfo {
        let url = endpoint.modelInfoURL(repository, revision: revision)
        let response: HTTPClientResponse
        do {
            response = try await execute(request(url, headers: [("Accept", "application/json")]))
        } catch {
            throw HubError.unreachable(url: url, detail: "\(error)")
        }
        guard response.status == .ok else {
            throw await Self.failure(response, url: url, repository: repository, revision: revision, file: nil)
        }
        let body = try await response.body.collect(upTo: 64 << 20)
        let info: HubModelInfo
        do {
            info = try JSONDecoder().decode(HubModelInfo.self, from: Data(body.readableBytesView))
        } catch {
            throw HubError.badMetadata("\(url) is not model metadata with sha and siblings: \(error)")
        }
        guard info.sha.count >= 7, info.sha.allSatisfy(\.isHexDigit) else {
            throw HubError.badMetadata("\(url) gives commit '\(info.sha)', not a hexadecimal commit id")
        }
        return info
    }

    /// The error a non-success response stands for, using the hub's own error code when it sends one.
    static func failure(
        _ response: HTTPClientResponse, url: String, repository: HubRepositoryID, revision: String, file: String?
    ) async -> HubError {
        let status = Int(response.status.code)
        let code = response.headers.first(name: "X-Error-Code")
        var detail = response.headers.first(name: "X-Error-Message") ?? ""
        if detail.isEmpty, let body = try? await response.body.collect(upTo: 16 << 10) {
            let text = String(buffer: body)
            if let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], let message = json["error"] as? String {
                detail = message
            } else {
                detail = String(text.prefix(200)).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        let endpoint = URLComponents(string: url).map { "\($0.scheme ?? "http")://\($0.host ?? "")\($0.port.map { ":\($0)" } ?? "")" } ?? url
        switch code {
        case "RepoNotFound": return .repositoryNotFound(repository: "\(repository)", endpoint: endpoint, status: status)
        case "RevisionNotFound": return .revisionNotFound(repository: "\(repository)", revision: revision)
        case "EntryNotFound": return .fileNotFound(repository: "\(repository)", file: file ?? url)
        case "GatedRepo": return .accessDenied(repository: "\(repository)", status: status, detail: detail)
        default: break
        }
        if status == 401 && detail == "Invalid credentials in Authorization header" {
            return .accessDenied(repository: "\(repository)", status: status, detail: "the token in HF_TOKEN is not valid")
        }
        switch (status, file) {
        case (404, nil), (401, nil): return .repositoryNotFound(repository: "\(repository)", endpoint: endpoint, status: status)
        case (404, let file?): return .fileNotFound(repository: "\(repository)", file: file)
        case (401, _), (403, _): return .accessDenied(repository: "\(repository)", status: status, detail: detail)
        default: return .http(url: url, status: status, detail: detail)
        }
    }
}
