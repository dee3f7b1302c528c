import CLIP
import Compute
import Imaging

/// Tags the images of one request: finds the prompt set (or zero-shot classes) and its
/// encoder, decodes and preprocesses the images, has the batcher encode them with other
/// requests' images, and scores them.
struct Tagger: Sendable {
    let registry: ModelRegistry
    let batcher: InferenceBatcher
    let zeroShot: ZeroShotFeatureCache
    let decodeLimits: DecodeLimits

    func tag(_ input: TagInput) async throws -> TagResponse {
        let start = ContinuousClock.now
        let options = input.options
        if input.images.count > batcher.configuration.maxQueue {
            throw APIError(.contentTooLarge, code: "too_many_images",
                           message: "\(input.images.count) images can never fit the encoder queue (batching.max_queue = \(batcher.configuration.maxQueue))",
                           param: "images")
        }
        if let classes = options.classes {
            let encoder = try await registry.encoder(named: try await modelName(options))
            let prepared = try await ImagePreparation.prepare(input.images, for: encoder, limits: decodeLimits)
            let classFeatures = try await zeroShotFeatures(classes: classes, encoder: encoder)
            let encoded = try await batcher.encode(prepared.map(\.pixels), with: encoder)
            let labels = try ZeroShotClassifier(classNames: classes, classFeatures: classFeatures, logitScale: encoder.model.logitScale)
                .labels(imageFeatures: encoded.flatMap(\.features), threshold: options.threshold, topK: options.topK)
            return response(encoder: encoder, promptSet: nil, input: input, prepared: prepared, encoded: encoded,
                            labels: labels, start: start)
        }

        let promptSet: LoadedPromptSet
        if let id = options.promptSet {
            promptSet = try await registry.promptSet(id: id)
        } else {
            let id = try await registry.defaultPromptSetID(forModel: try await modelName(options))
            do {
                promptSet = try await registry.promptSet(id: id)
            } catch RegistryError.unknownPromptSet {
                // The client named no prompt set: a default that vanished is the server's state, not a bad `param`.
                throw RegistryError.noDefault("the default prompt set '\(id)' is gone from the prompt sets folder")
            }
        }
        if let model = options.model, model != promptSet.encoderName {
            throw RegistryError.modelMismatch(
                promptSet: promptSet.id, promptSetModel: promptSet.encoderName,
                promptSetDigest: promptSet.manifest.encoder.weightsSHA256,
                model: model, modelDigest: try await registry.weightsDigest(ofModel: model))
        }
        let encoder = try await registry.encoder(named: promptSet.encoderName)
        let prepared = try await ImagePreparation.prepare(input.images, for: encoder, limits: decodeLimits)
        let encoded = try await batcher.encode(prepared.map(\.pixels), with: encoder)
        let labels = promptSet.promptSet.labels(imageFeatures: encoded.flatMap(\.features), logitScale: encoder.model.logitScale,
                                                threshold: options.threshold, topK: options.topK)
        return response(encoder: encoder, promptSet: promptSet.id, input: input, prepared: prepared, encoded: encoded,
                        labels: labels, start: start)
    }

    /// The model the request names, else the default one.
    private func modelName(_ options: TagOptions) async throws -> String {
        if let model = options.model { return model }
        return try await registry.defaultModelName()
    }

    /// Unit-length text features of the class prompts, through the cache; computed on the inference thread.
    /// Class texts encoded in one turn of the inference thread.
    static let classTextChunk = 16

    private func zeroShotFeatures(classes: [String], encoder: LoadedEncoder) async throws -> [Float] {
        let key = ZeroShotFeatureCache.key(weightsDigest: encoder.digest, classes: classes)
        let batcher = self.batcher
        return try await zeroShot.features(for: key) {
            // In chunks, each its own turn on the inference thread: image batches queued meanwhile
            // run between them instead of waiting for the whole class list (seconds for hundreds).
            let prompts = ZeroShotFeatureCache.prompts(for: classes)
            var features: [Float] = []
            for start in stride(from: 0, to: prompts.count, by: Self.classTextChunk) {
                let chunk = Array(prompts[start..<min(start + Self.classTextChunk, prompts.count)])
                features += try await batcher.perform { try encoder.model.encode(texts: chunk) }
                try Task.checkCancellation()
            }
            return L2Normalize.rows(features, width: encoder.model.configuration.projectionDim)
        }
    }

    private func response(encoder: LoadedEncoder, promptSet: String?, input: TagInput, prepared: [PreparedImage],
                          encoded: [EncodedImage], labels: [[ImageLabel]], start: ContinuousClock.Instant) -> TagResponse {
        let results = prepared.indices.map { i in
            TagResponse.ImageResult(
                index: i, filename: input.images[i].filename, width: prepared[i].width, height: prepared[i].height,
                labels: labels[i],
                timings: .init(decodeMs: prepared[i].decodeDuration.milliseconds, queueMs: encoded[i].queueDuration.milliseconds,
                               inferenceMs: encoded[i].inferenceDuration.milliseconds, batchSize: encoded[i].batchSize))
        }
        return TagResponse(
            model: encoder.name, weightsSHA256: encoder.digest, promptSet: promptSet,
            mode: promptSet == nil ? "zero_shot" : "prompt_set", results: results,
            timings: .init(decodeMs: prepared.map(\.decodeDuration.milliseconds).reduce(0, +),
                           queueMs: encoded.map(\.queueDuration.milliseconds).max() ?? 0,
                           inferenceMs: encoded.map(\.inferenceDuration.milliseconds).max() ?? 0,
                           totalMs: (ContinuousClock.now - start).milliseconds))
    }
}
