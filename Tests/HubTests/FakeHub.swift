import CLIP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

/// A Hugging Face hub on loopback, in the real hub's URL layout: `GET /api/models/{repo}/revision/{rev}`
/// (commit `sha` and `siblings`, with `size` and `lfs.sha256` when `blobs` is asked), file downloads at
/// `/{repo}/resolve/{rev}/{path}` (small files directly with an `ETag`; LFS files as a 302 to a CDN
/// path with `X-Linked-Etag` = SHA-256 and `X-Linked-Size`, as huggingface.co does), `X-Repo-Commit`
/// on both, `Range` requests answered 206, and the hub's `X-Error-Code` errors. Faults are injected
/// per test: a connection closed mid-file, a corrupted byte, `Range` ignored.
final class FakeHub: Sendable {
    struct Repository: Sendable {
        let id: String
        let commit: String
        let files: [String: [UInt8]]
        /// Files stored with Git LFS (served through the CDN redirect).
        let lfs: Set<String>
        var token: String?

        func sha256(_ name: String) -> String { SHA256.hex(files[name]!) }
    }

    struct Faults: Sendable {
        /// File name → bytes sent before the connection is closed (once).
        var interruptAfter: [String: Int] = [:]
        /// Files served with one byte flipped (same size, wrong SHA-256).
        var corrupt: Set<String> = []
        /// Answer `Range` requests with the whole file and 200, as some CDNs do.
        var ignoreRange = false
    }

    struct Logged: Sendable {
        let path: String
        let query: String?
        let range: String?
        let authorization: String?
        let status: Int
    }

    let repositories: [String: Repository]
    private let state = Mutex<(faults: Faults, log: [Logged])>((Faults(), []))

    init(_ repositories: [Repository]) {
        self.repositories = Dictionary(uniqueKeysWithValues: repositories.map { ($0.id, $0) })
    }

    var log: [Logged] { state.withLock { $0.log } }
    func clearLog() { state.withLock { $0.log = [] } }
    func setFaults(_ faults: Faults) { state.withLock { $0.faults = faults } }

    /// Requests for a file, through `/resolve/` or the CDN path.
    func requests(for file: String) -> [Logged] {
        log.filter { $0.path.hasSuffix("/\(file)") || $0.query == "file=\(file)" }
    }

    /// Runs the hub on 127.0.0.1 with a free port for the length of `body`, which gets its base URL.
    func serve<Value: Sendable>(_ body: @Sendable (String) async throws -> Value) async throws -> Value {
        // Quiet: a connection the fake hub drops on purpose would otherwise log as a server error.
        var logger = Logger(label: "fake-hub")
        logger.logLevel = .critical
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "fake-hub"),
            logger: logger)
        return try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }

    // MARK: - Routes

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/api/models/:org/:name/revision/:revision") { request, context in
            self.modelInfo(request, context)
        }
        router.get("/:org/:name/resolve/:revision/**") { request, context in
            self.resolve(request, context)
        }
        router.get("/cdn-lfs/:repository/:sha256") { request, context in
            self.cdn(request, context)
        }
        return router
    }

    private func record(_ request: Request, _ status: Int) {
        state.withLock {
            $0.log.append(Logged(
                path: request.uri.path, query: request.uri.query, range: request.headers[.range],
                authorization: request.headers[.authorization], status: status))
        }
    }

    /// The repository a request names, or the hub's error (401 RepoNotFound without the right token,
    /// as the hub answers for private repositories).
    private func repository(_ request: Request, _ context: BasicRequestContext) -> Result<Repository, FailureResponse> {
        let id = "\(context.parameters.get("org") ?? "")/\(context.parameters.get("name") ?? "")"
        guard let repository = repositories[id] else {
            return .failure(.init(status: .notFound, code: "RepoNotFound", message: "Repository not found"))
        }
        if let token = repository.token, request.headers[.authorization] != "Bearer \(token)" {
            return .failure(.init(status: .unauthorized, code: "RepoNotFound", message: "Invalid username or password."))
        }
        return .success(repository)
    }

    struct ConnectionDropped: Error {}

    struct FailureResponse: Error {
        let status: HTTPResponse.Status
        let code: String
        let message: String

        var response: Response {
            var headers = HTTPFields()
            headers[HTTPField.Name("X-Error-Code")!] = code
            headers[HTTPField.Name("X-Error-Message")!] = message
            headers[.contentType] = "application/json"
            return Response(status: status, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"\#(message)"}"#)))
        }
    }

    private func revisionMatches(_ repository: Repository, _ revision: String) -> Bool {
        revision == "main" || revision == repository.commit
    }

    private func modelInfo(_ request: Request, _ context: BasicRequestContext) -> Response {
        let response: Response
        switch repository(request, context) {
        case .failure(let failure):
            response = failure.response
        case .success(let repository):
            let revision = context.parameters.get("revision") ?? ""
            if !revisionMatches(repository, revision) {
                response = FailureResponse(status: .notFound, code: "RevisionNotFound", message: "Invalid rev id: \(revision)").response
            } else {
                let blobs = request.uri.queryParameters["blobs"] == "true"
                let siblings: [[String: Any]] = repository.files.keys.sorted().map { name in
                    var sibling: [String: Any] = ["rfilename": name]
                    if blobs {
                        let bytes = repository.files[name]!
                        sibling["size"] = bytes.count
                        sibling["blobId"] = String(repository.sha256(name).prefix(40))
                        if repository.lfs.contains(name) {
                            sibling["lfs"] = ["sha256": repository.sha256(name), "size": bytes.count, "pointerSize": 134]
                        }
                    }
                    return sibling
                }
                let json: [String: Any] = ["_id": "0", "id": repository.id, "modelId": repository.id,
                                           "sha": repository.commit, "private": repository.token != nil, "siblings": siblings]
                let data = try! JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
                response = Response(status: .ok, headers: [.contentType: "application/json"],
                                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
        }
        record(request, Int(response.status.code))
        return response
    }

    private func resolve(_ request: Request, _ context: BasicRequestContext) -> Response {
        let response: Response
        switch repository(request, context) {
        case .failure(let failure):
            response = failure.response
        case .success(let repository):
            let revision = context.parameters.get("revision") ?? ""
            let path = context.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
            if !revisionMatches(repository, revision) {
                response = FailureResponse(status: .notFound, code: "RevisionNotFound", message: "Invalid rev id: \(revision)").response
            } else if repository.files[path] == nil {
                response = FailureResponse(status: .notFound, code: "EntryNotFound", message: "Entry not found").response
            } else if repository.lfs.contains(path) {
                // Like huggingface.co: the LFS object lives elsewhere; the redirect carries its digest and size.
                let digest = repository.sha256(path)
                // Another origin than the hub's (localhost, not 127.0.0.1), as the real CDN is another host.
                let port = request.head.authority?.split(separator: ":").last ?? "80"
                let location = "http://localhost:\(port)/cdn-lfs/\(repository.id.replacingOccurrences(of: "/", with: "--"))/\(digest)?file=\(path)"
                var headers = HTTPFields()
                headers[.location] = location
                headers[HTTPField.Name("X-Repo-Commit")!] = repository.commit
                headers[HTTPField.Name("X-Linked-Etag")!] = "\"\(digest)\""
                headers[HTTPField.Name("X-Linked-Size")!] = String(repository.files[path]!.count)
                headers[.eTag] = "\"\(digest)\""
                response = Response(status: .found, headers: headers)
            } else {
                var headers = HTTPFields()
                headers[HTTPField.Name("X-Repo-Commit")!] = repository.commit
                headers[.eTag] = "\"\(repository.sha256(path).prefix(40))\""
                response = content(repository.files[path]!, name: path, request: request, headers: headers)
            }
        }
        record(request, Int(response.status.code))
        return response
    }

    private func cdn(_ request: Request, _ context: BasicRequestContext) -> Response {
        let id = (context.parameters.get("repository") ?? "").replacingOccurrences(of: "--", with: "/")
        let digest = context.parameters.get("sha256") ?? ""
        let response: Response
        if let repository = repositories[id], let name = repository.lfs.first(where: { repository.sha256($0) == digest }) {
            response = content(repository.files[name]!, name: name, request: request, headers: [.eTag: "\"\(digest)\""])
        } else {
            response = Response(status: .notFound)
        }
        record(request, Int(response.status.code))
        return response
    }

    /// A file's bytes, or the part a `Range: bytes=N-` asks for (206), with this test's faults applied.
    private func content(_ original: [UInt8], name: String, request: Request, headers: HTTPFields) -> Response {
        let (faults, interruptAt): (Faults, Int?) = state.withLock { state in
            let cut = state.faults.interruptAfter.removeValue(forKey: name)
            return (state.faults, cut)
        }
        var bytes = original
        if faults.corrupt.contains(name) { bytes[bytes.count / 2] ^= 0xFF }
        var headers = headers
        headers[.acceptRanges] = "bytes"
        var status = HTTPResponse.Status.ok
        var start = 0
        if !faults.ignoreRange, let range = request.headers[.range],
           range.hasPrefix("bytes="), range.hasSuffix("-"), let from = Int(range.dropFirst(6).dropLast()) {
            guard from < bytes.count else {
                headers[.contentRange] = "bytes */\(bytes.count)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            start = from
            status = .partialContent
            headers[.contentRange] = "bytes \(from)-\(bytes.count - 1)/\(bytes.count)"
        }
        let body = Array(bytes[start...])
        headers[.contentLength] = String(body.count)
        if let interruptAt {
            // Send part of the body, then fail the response: the server closes the connection mid-file.
            let sent = Array(body.prefix(interruptAt))
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: body.count) { writer in
                try await writer.write(ByteBuffer(bytes: sent))
                throw ConnectionDropped()
            })
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
