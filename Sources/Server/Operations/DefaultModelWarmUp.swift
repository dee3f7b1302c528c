import Imaging
import Logging
import ServiceLifecycle

/// Loads the default encoder and prompt set when the server starts, runs one warm-up
/// inference through the batcher, and only then marks the server ready. While the defaults
/// are missing (no model yet, a prompt set still being tuned) it tries again with a growing
/// pause, and `/readyz` says why it is not ready; `/healthz` answers all along.
struct DefaultModelWarmUp: Service {
    let registry: ModelRegistry
    let batcher: InferenceBatcher
    let readiness: Readiness
    let logger: Logger
    /// What must happen first (replicas: the first sync of the prompt sets from the database).
    var prerequisite: (@Sendable () async throws -> Void)? = nil

    func run() async throws {
        var pause = Duration.seconds(1)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await warmUp()
                break
            } catch {
                let reason = "loading the default model and prompt set: \(error)"
                readiness.reportProgress(reason)
                logger.warning("not ready", metadata: ["reason": .string(reason), "retry_seconds": .stringConvertible(pause.components.seconds)])
                let wait = pause
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                pause = min(pause * 2, .seconds(30))
            }
        }
        try? await gracefulShutdown()
    }

    private func warmUp() async throws {
        if let prerequisite {
            readiness.reportProgress("syncing the prompt sets from the database")
            try await prerequisite()
        }
        readiness.reportProgress("loading the default model and prompt set")
        let start = ContinuousClock.now
        let (encoder, promptSet) = try await registry.loadDefaults()
        let size = encoder.model.configuration.imageSize
        let gray = try RGBImage(width: size, height: size, pixels: [UInt8](repeating: 128, count: size * size * 3))
        let encoded = try await batcher.encode([encoder.model.preprocess.apply(gray)], with: encoder, urgent: true)
        _ = promptSet.promptSet.labels(imageFeatures: encoded[0].features, logitScale: encoder.model.logitScale, topK: 1)
        let registry = self.registry
        readiness.markReady(recheck: { await registry.defaultsProblem() })
        logger.info("ready", metadata: [
            "model": .string(encoder.name), "prompt_set": .string(promptSet.id),
            "seconds": .string(String(format: "%.2f", (ContinuousClock.now - start).seconds)),
        ])
    }
}
