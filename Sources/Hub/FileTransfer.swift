import AsyncHTTPClient
import CLIP
import Foundation
import NIOCore

/// One file from the hub into `<partial>/<name>.part`, resumed with a `Range` request when part of it
/// is already there, checked (size for every file; SHA-256 for weights, against the hub's LFS digest)
/// and renamed to `<partial>/<name>` only once it is right.
struct FileTransfer {
    let client: HubClient
    let repository: HubRepositoryID
    let commit: String
    let file: HubModelInfo.File
    let folder: URL
    let maxAttempts: Int
    let retryDelay: Duration
    let events: @Sendable (PullEvent) -> Void

    var name: String { file.rfilename }
    var partURL: URL { folder.appendingPathComponent(name + ".part") }
    var finalURL: URL { folder.appendingPathComponent(name) }

    /// The size and SHA-256 of the finished file.
    struct Result: Sendable, Equatable {
        let size: Int64
        let sha256: String
    }

    /// A failure worth another attempt: the connection broke or the server had a passing problem.
    private struct Retryable: Error { let reason: String; let final: HubError }

    func run() async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await attemptOnce()
            } catch let retryable as Retryable {
                guard attempt < maxAttempts else { throw retryable.final }
                attempt += 1
                events(.retrying(name: name, attempt: attempt, reason: retryable.reason))
                try await Task.sleep(for: retryDelay * (attempt - 1))
            }
        }
    }

    private func attemptOnce() async throws -> Result {
        let fm = FileManager.default
        var offset = Self.fileSize(partURL) ?? 0
        if let size = file.size, offset > size {
            try? fm.removeItem(at: partURL)   // longer than the file: not a prefix of it
            offset = 0
        }
        if let size = file.size, offset == size, size > 0, file.lfs != nil || !CheckpointFilePlan.isWeights(name) {
            // An earlier run received everything but stopped before the check.
            events(.fileStarted(name: name, size: size, offset: offset))
            return try finish(hasher: try hashPrefix(length: offset), received: offset, expectedSize: size,
                              expectedDigest: file.lfs?.sha256.lowercased())
        }

        let url = client.endpoint.fileURL(repository, revision: commit, path: name)
        var headers: [(String, String)] = []
        if offset > 0 { headers.append(("Range", "bytes=\(offset)-")) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(client.request(url, headers: headers))
        } catch {
            throw Retryable(reason: "\(error)", final: .transfer(file: name, detail: "\(error)"))
        }

        switch response.status.code {
        case 206:
            guard let range = response.headers.first(name: "Content-Range"), Self.rangeStart(range) == offset else {
                throw HubError.badMetadata("\(name): asked for bytes from \(offset), got Content-Range \(response.headers.first(name: "Content-Range") ?? "none")")
            }
        case 200:
            if offset > 0 {
                events(.rangeIgnored(name: name))
                offset = 0
            }
        case 416:
            try? fm.removeItem(at: partURL)
            throw Retryable(reason: "the server refused the range; starting over",
                            final: .transfer(file: name, detail: "the server refused to resume (HTTP 416)"))
        case 408, 429, 500...599:
            let failure = await HubClient.failure(response, url: url, repository: repository, revision: commit, file: name)
            throw Retryable(reason: failure.description, final: failure)
        default:
            throw await HubClient.failure(response, url: url, repository: repository, revision: commit, file: name)
        }
        let expectedDigest = try digest(from: response)
        // Sizes come from the hub's metadata; a server that leaves them out still states the length.
        let size = file.size ?? Self.totalLength(response)

        if !fm.fileExists(atPath: partURL.path) { _ = fm.createFile(atPath: partURL.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: partURL)
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(offset))
        try handle.seekToEnd()
        let hasher = try hashPrefix(length: offset)
        var received = offset
        events(.fileStarted(name: name, size: size, offset: offset))
        do {
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { bytes in
                    hasher.update(bytes)
                    try handle.write(contentsOf: bytes)
                }
                received += Int64(buffer.readableBytes)
                if let size, received > size { break }
                events(.fileProgress(name: name, received: received, size: size))
            }
        } catch {
            _ = hasher.finish()
            try? handle.synchronize()
            throw Retryable(reason: "\(error)", final: .transfer(file: name, detail: "\(error)"))
        }
        try handle.synchronize()
        if let size, received < size {
            // The body ended early without an error: the same as a broken connection.
            _ = hasher.finish()
            let detail = "the server sent \(received) of \(size) bytes"
            throw Retryable(reason: detail, final: .transfer(file: name, detail: detail))
        }
        return try finish(hasher: hasher, received: received, expectedSize: size, expectedDigest: expectedDigest)
    }

    /// Checks size and digest; a wrong file is deleted (it cannot be resumed into a right one).
    private func finish(hasher: SHA256, received: Int64, expectedSize: Int64?, expectedDigest: String?) throws -> Result {
        let digest = hasher.finish()
        guard let size = expectedSize else {
            try? FileManager.default.removeItem(at: partURL)
            throw HubError.badMetadata("\(name): neither the hub's metadata nor the download states its size")
        }
        if received != size {
            try? FileManager.default.removeItem(at: partURL)
            throw HubError.sizeMismatch(file: name, expected: size, received: received)
        }
        if let expectedDigest, digest != expectedDigest {
            try? FileManager.default.removeItem(at: partURL)
            throw HubError.digestMismatch(file: name, expected: expectedDigest, received: digest)
        }
        try? FileManager.default.removeItem(at: finalURL)
        try FileManager.default.moveItem(at: partURL, to: finalURL)
        return Result(size: received, sha256: digest)
    }

    /// The SHA-256 the file must have: the hub's LFS digest, cross-checked against the `X-Linked-Etag`
    /// (the LFS object's SHA-256) and `X-Repo-Commit` headers of the redirect chain. Weights are never
    /// accepted without one.
    private func digest(from response: HTTPClientResponse) throws -> String? {
        var linkedEtag: String?
        for hop in response.history {
            let headers = hop.responseHead.headers
            if let commitHeader = headers.first(name: "X-Repo-Commit"), !commitHeader.isEmpty, commitHeader != commit {
                throw HubError.badMetadata("\(name) comes from commit \(commitHeader), not \(commit)")
            }
            if let etag = headers.first(name: "X-Linked-Etag") { linkedEtag = Self.normalizedEtag(etag) }
            if let linkedSize = headers.first(name: "X-Linked-Size").flatMap({ Int64($0) }), let size = file.size, linkedSize != size {
                throw HubError.badMetadata("\(name): the hub's metadata lists \(size) bytes but its download headers \(linkedSize)")
            }
        }
        let linkedDigest = linkedEtag.flatMap { Self.isSHA256($0) ? $0.lowercased() : nil }
        if let listed = file.lfs?.sha256.lowercased() {
            if let linkedDigest, linkedDigest != listed {
                throw HubError.badMetadata("\(name): the hub's metadata gives SHA-256 \(listed) but its download headers \(linkedDigest)")
            }
            return listed
        }
        if let linkedDigest { return linkedDigest }
        if CheckpointFilePlan.isWeights(name) {
            throw HubError.badMetadata("\(name): the hub gives no SHA-256 for these weights, so they cannot be checked")
        }
        return nil
    }

    /// A hasher already fed the first `length` bytes of the part file (what earlier runs received).
    private func hashPrefix(length: Int64) throws -> SHA256 {
        let hasher = SHA256()
        guard length > 0 else { return hasher }
        let handle = try FileHandle(forReadingFrom: partURL)
        defer { try? handle.close() }
        var remaining = length
        while remaining > 0 {
            let data = try handle.read(upToCount: Int(min(remaining, 8 << 20))) ?? Data()
            guard !data.isEmpty else { break }
            hasher.update(data)
            remaining -= Int64(data.count)
        }
        return hasher
    }

    static func fileSize(_ url: URL) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
    }

    /// The whole file's length: the total of `Content-Range`, else `Content-Length` of a 200.
    static func totalLength(_ response: HTTPClientResponse) -> Int64? {
        if let range = response.headers.first(name: "Content-Range"), let slash = range.lastIndex(of: "/") {
            return Int64(range[range.index(after: slash)...])
        }
        return response.status.code == 200 ? response.headers.first(name: "Content-Length").flatMap { Int64($0) } : nil
    }

    /// The first byte of `Content-Range: bytes a-b/total`.
    static func rangeStart(_ header: String) -> Int64? {
        let parts = header.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bytes", let dash = parts[1].firstIndex(of: "-") else { return nil }
        return Int64(parts[1][..<dash])
    }

    /// `W/"abc"` and `"abc"` → `abc`, as huggingface_hub normalises ETags.
    static func normalizedEtag(_ etag: String) -> String {
        var text = etag.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("W/") { text.removeFirst(2) }
        return text.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    static func isSHA256(_ text: String) -> Bool { text.count == 64 && text.allSatisfy(\.isHexDigit) }
}
