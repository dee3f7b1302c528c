import CLIP
import Compute
import Imaging
import Tuning

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
        if input.images.count > batcher.configuration.maxQueue {
            throw APIError(.contentTooLarge, code: "too_many_images",
                           message: "\(input.images.count) images can never fit the encoder queue (batching.max_queue = \(batcher.configuration.maxQueue))",
                           param: "images")
        }
        let plan = try await plan(input.options)
        let prepared = try await ImagePreparation.prepare(input.images, for: plan.encoder, limits: decodeLimits)
        let encoded = try await batcher.encode(prepared.map(\.pixels), with: plan.encoder)
        let labels = plan.labels(encoded.flatMap(\.features), options: input.options)
        return response(encoder: plan.encoder, promptSet: plan.promptSet, input: input, prepared: prepared, encoded: encoded,
                        labels: labels, start: start)
    }

    /// What scores the images of a request (or of a batch job): the encoder and either a prompt set
    /// or zero-shot classes, resolved and checked before any image is decoded.
    struct Plan: Sendable {
        let encoder: LoadedEncoder
        /// The prompt set's id; nil for zero-shot.
        let promptSet: String?
        let scorer: Scorer
        enum Scorer: Sendable {
            case promptSet(PromptSet)
            case zeroShot(ZeroShotClassifier)
        }

        /// Labels per image of `features` (rows of the encoder's projection).
        func labels(_ features: [Float], options: TagOptions) -> [[ImageLabel]] {
            switch scorer {
            case .promptSet(let set):
                set.labels(imageFeatures: features, logitScale: encoder.model.logitScale, threshold: options.threshold, topK: options.topK)
            case .zeroShot(let classifier):
                classifier.labels(imageFeatures: features, threshold: options.threshold, topK: options.topK)
            }
        }

        /// The classes scored, in the prompt set's (or the request's) order.
        var classNames: [String] {
            switch scorer {
            case .promptSet(let set): set.manifest.classes
            case .zeroShot(let classifier): classifier.classNames
            }
        }
    }

    func plan(_ options: TagOptions) async throws -> Plan {
        if let classes = options.classes {
            let encoder = try await registry.encoder(named: try await modelName(options))
            let classFeatures = try await zeroShotFeatures(classes: classes, encoder: encoder)
            let classifier = try ZeroShotClassifier(classNames: classes, classFeatures: classFeatures, logitScale: encoder.model.logitScale)
            return Plan(encoder: encoder, promptSet: nil, scorer: .zeroShot(classifier))
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
        return Plan(encoder: encoder, promptSet: promptSet.id, scorer: .promptSet(promptSet.promptSet))
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
