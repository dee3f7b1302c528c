import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Keeps this replica's prompt sets folder and default choices equal to the catalog's (PostgreSQL).
///
/// At start it publishes the local prompt sets the catalog lacks (the bundled demo, or folders
/// from before the cluster; the first replica's copy wins, later ones adopt it), then syncs: at
/// once when woken (a NOTIFY on `tagtune_prompt_sets`, a listener reconnect) and every
/// `sweepSeconds` as the fallback for a lost notification. A sync compares versions and writes
/// only what changed, each file atomically, so the registry (which re-reads a folder whose files
/// changed) serves the new version at its next lookup.
final class PromptSetSync: Service, Sendable {
    let catalog: any PromptSetCatalog
    let registry: ModelRegistry
    let folder: URL
    let sweepSeconds: Double
    let logger: Logger
    let wakeUps = WakeSignal()
    /// Opened after the first complete sync: readiness waits for it, so a new replica does not
    /// answer with defaults the cluster has replaced.
    let firstSync = AsyncGate()
    private let materialised = NIOLockedValueBox<[String: PromptSetVersion]>([:])

    init(catalog: any PromptSetCatalog, registry: ModelRegistry, sweepSeconds: Double, logger: Logger) {
        self.catalog = catalog
        self.registry = registry
        folder = registry.promptSetsURL
        self.sweepSeconds = sweepSeconds
        self.logger = logger
    }

    /// Something changed in the catalog (or may have: a reconnect): sync now.
    func wake() { wakeUps.ring() }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var delay = Duration.milliseconds(200)
            while !Task.isCancelled {
                let seen = self.wakeUps.generation
                do {
                    if !self.firstSync.isOpen { try await self.publishLocal() }
                    try await self.sync()
                    self.firstSync.open()
                    delay = .milliseconds(200)
                    await self.wakeUps.wait(after: seen, timeout: .seconds(self.sweepSeconds))
                } catch where Task.isCancelled {
                    return   // shutting down
                } catch {
                    // The database is down or restarting: the folder keeps serving what it has.
                    self.logger.warning("cannot sync prompt sets; trying again", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(5))
                }
            }
        }
    }

    /// Publishes each local prompt set the catalog does not have.
    func publishLocal() async throws {
        let known = try await catalog.promptSetVersions()
        for (id, url) in ModelRegistry.subfolders(of: folder) where known[id] == nil {
            guard let files = try? PromptSetFiles(folder: url) else { continue }   // not a prompt set, or half-written
            if try await catalog.publishIfAbsent(id: id, files: files) {
                logger.notice("prompt set published to the cluster", metadata: ["prompt_set": .string(id)])
            }
        }
    }

    /// Brings every changed prompt set and the default choices from the catalog into this replica.
    func sync() async throws {
        let versions = try await catalog.promptSetVersions()
        for (id, version) in versions.sorted(by: { $0.key < $1.key }) where materialised.withLockedValue({ $0[id] }) != version {
            let target = folder.appendingPathComponent(id, isDirectory: true)
            if !isMaterialised(version, at: target) {
                guard let stored = try await catalog.promptSet(id: id) else { continue }   // deleted meanwhile
                try stored.files.materialise(as: target)
                logger.info("prompt set synced", metadata: ["prompt_set": .string(id), "version": .stringConvertible(stored.version.version)])
            }
            materialised.withLockedValue { $0[id] = version }
        }
        await registry.adoptDefaults(try await catalog.modelDefaults())
    }

    /// Whether the folder already holds these bytes (a restart, or this replica wrote them).
    private func isMaterialised(_ version: PromptSetVersion, at folder: URL) -> Bool {
        guard let files = try? PromptSetFiles(folder: folder) else { return false }
        return files.manifestSHA256 == version.manifestSHA256 && files.tensorsSHA256 == version.tensorsSHA256
    }
}
