import AsyncHTTPClient
import CLIP
import Foundation

/// `tagtune pull`: a CLIP checkpoint from a Hugging Face hub into the models folder.
///
/// Files go to `<models>/.partial/<folder>/<file>.part`, are checked, renamed to `<file>`, and the
/// finished folder is renamed to `<models>/<folder>` in one step, so the models folder only ever holds
/// complete checkpoints. A broken pull resumes where it stopped the next time it runs.
public struct ModelPull: Sendable {
    public var repository: HubRepositoryID
    public var revision = "main"
    public var modelsDirectory: URL
    /// The folder's name inside the models folder; `org--name` unless given.
    public var folderName: String
    public var endpoint: HubEndpoint
    public var userAgent = "tagtune"
    /// Tries per file when the connection breaks or the server fails (each resumes from what arrived).
    public var maxAttempts = 4
    /// Wait before the second try; one more such wait for each further try.
    public var retryDelay: Duration = .seconds(1)
    /// How long an unreachable hub is tried before the pull fails.
    public var connectTimeout: Duration = .seconds(15)

    public init(repository: HubRepositoryID, modelsDirectory: URL, endpoint: HubEndpoint) {
        self.repository = repository
        self.modelsDirectory = modelsDirectory
        self.folderName = repository.folderName
        self.endpoint = endpoint
    }

    public enum Outcome: Sendable, Equatable {
        /// Downloaded (in this run, or partly in earlier ones) and checked.
        case pulled(folder: URL, record: PullRecord)
        /// The folder was already there: nothing was asked of the hub.
        case alreadyPresent(folder: URL, record: PullRecord?)
    }

    public var finalFolder: URL { modelsDirectory.appendingPathComponent(folderName, isDirectory: true) }
    var partialRoot: URL { modelsDirectory.appendingPathComponent(".partial", isDirectory: true) }
    var partialFolder: URL { partialRoot.appendingPathComponent(folderName, isDirectory: true) }

    public func run(events: @escaping @Sendable (PullEvent) -> Void = { _ in }) async throws -> Outcome {
        guard !folderName.isEmpty, !folderName.hasPrefix("."), !folderName.contains("/") else {
            throw HubError.local("'\(folderName)' cannot be a model folder name (no '/', not starting with '.')")
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: finalFolder.path) {
            return .alreadyPresent(folder: finalFolder, record: PullRecord.read(in: finalFolder))
        }
        do {
            try fm.createDirectory(at: partialRoot, withIntermediateDirectories: true)
        } catch {
            throw HubError.local("cannot create \(partialRoot.path): \(error.localizedDescription)")
        }
        let lock = try PullLock(partialRoot.appendingPathComponent(folderName + ".lock"), model: "\(repository)")
        defer { withExtendedLifetime(lock) {} }
        if fm.fileExists(atPath: finalFolder.path) {   // another pull finished while this one waited
            return .alreadyPresent(folder: finalFolder, record: PullRecord.read(in: finalFolder))
        }

        return try await HTTPClient.withHTTPClient(configuration: HubClient.configuration(connectTimeout: connectTimeout)) { http in
            let client = HubClient(http: http, endpoint: endpoint, userAgent: userAgent)
            return try await pull(client: client, events: events)
        }
    }

    private func pull(client: HubClient, events: @escaping @Sendable (PullEvent) -> Void) async throws -> Outcome {
        let fm = FileManager.default
        let info = try await client.modelInfo(repository, revision: revision)
        let names = info.siblings.map(\.rfilename)
        var plan = try CheckpointFilePlan.choose(from: names, repository: "\(repository)")
        events(.resolved(repository: "\(repository)", revision: revision, commit: info.sha, layout: plan.layout, files: plan.files))

        // Part files of another commit cannot be resumed into this one.
        if let earlier = PullRecord.read(in: partialFolder), earlier.commit != info.sha || earlier.repository != "\(repository)" {
            try fm.removeItem(at: partialFolder)
        }
        try fm.createDirectory(at: partialFolder, withIntermediateDirectories: true)
        var record = PullRecord(
            repository: "\(repository)", revision: revision, commit: info.sha, endpoint: endpoint.url,
            layout: plan.layout.rawValue, files: [], pulledAt: nil)
        try record.write(in: partialFolder)

        var index = 0
        var checkedSpace = false
        while index < plan.files.count {
            let name = plan.files[index]
            guard let file = info.file(name) else { throw HubError.fileNotFound(repository: "\(repository)", file: name) }
            if CheckpointFilePlan.isWeights(name) && !checkedSpace {
                try checkFreeSpace(for: plan.files[index...].compactMap { info.file($0) })
                checkedSpace = true
            }
            let result = try await fetch(file, client: client, commit: info.sha, events: events)
            record.files.append(.init(name: name, size: result.size, sha256: result.sha256))
            if name == plan.configFile {
                do {
                    _ = try CheckpointCheck.configuration(in: partialFolder, plan: plan, repository: "\(repository)")
                } catch {
                    try? fm.removeItem(at: partialFolder)   // nothing in it is worth resuming
                    throw error
                }
            }
            if name == plan.shardIndex {
                let data = try Data(contentsOf: partialFolder.appendingPathComponent(name))
                try plan.addShards(indexJSON: data, available: names, repository: "\(repository)")
            }
            index += 1
        }

        do {
            try CheckpointCheck.folder(partialFolder, plan: plan, repository: "\(repository)")
        } catch {
            try? fm.removeItem(at: partialFolder)   // checked files that do not load together: nothing to resume
            throw error
        }
        record.pulledAt = ISO8601DateFormatter().string(from: Date())
        try record.write(in: partialFolder)
        do {
            try fm.moveItem(at: partialFolder, to: finalFolder)   // rename(2): the folder appears complete or not at all
        } catch {
            throw HubError.local("cannot move \(partialFolder.path) to \(finalFolder.path): \(error.localizedDescription)")
        }
        Self.synchronizeDirectory(modelsDirectory)
        return .pulled(folder: finalFolder, record: record)
    }

    /// One file: reused when an earlier run finished it, else transferred (resuming any part file).
    private func fetch(
        _ file: HubModelInfo.File, client: HubClient, commit: String, events: @escaping @Sendable (PullEvent) -> Void
    ) async throws -> FileTransfer.Result {
        let transfer = FileTransfer(
            client: client, repository: repository, commit: commit, file: file, folder: partialFolder,
            maxAttempts: max(1, maxAttempts), retryDelay: retryDelay, events: events)
        if let size = FileTransfer.fileSize(transfer.finalURL) {
            // Finished and checked by an earlier run of the same commit; the size is checked again and the
            // digest recomputed for the record (a finished file is never fetched twice).
            if size == file.size ?? size {
                let digest = try SHA256.hex(files: [transfer.finalURL])
                if let expected = file.lfs?.sha256.lowercased(), expected != digest {
                    try FileManager.default.removeItem(at: transfer.finalURL)
                } else {
                    events(.fileFinished(name: file.rfilename, size: size, sha256: digest, reused: true))
                    return .init(size: size, sha256: digest)
                }
            } else {
                try FileManager.default.removeItem(at: transfer.finalURL)
            }
        }
        let result = try await transfer.run()
        events(.fileFinished(name: file.rfilename, size: result.size, sha256: result.sha256, reused: false))
        return result
    }

    /// Refuses to start the weights when the disk cannot hold them (a full disk mid-file helps nobody).
    private func checkFreeSpace(for files: [HubModelInfo.File]) throws {
        var needed: Int64 = 0
        for file in files {
            let here = FileTransfer.fileSize(partialFolder.appendingPathComponent(file.rfilename))
                ?? FileTransfer.fileSize(partialFolder.appendingPathComponent(file.rfilename + ".part")) ?? 0
            needed += max(0, (file.size ?? 0) - here)
        }
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: partialFolder.path),
              let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value else { return }
        if free < needed {
            throw HubError.notEnoughSpace(folder: modelsDirectory.path, needed: needed, free: free)
        }
    }

    /// Makes the rename itself durable.
    static func synchronizeDirectory(_ url: URL) {
        let descriptor = open(url.path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
