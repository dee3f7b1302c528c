import CLIP
import Compute
import Foundation
import Imaging

/// Embeds the inputs of one request with one model: images are decoded off the cooperative pool and
/// encoded by the batcher together with other requests' images (tagging's too); texts are
/// tokenized here and encoded on the inference thread in chunks, each its own turn, so queued image
/// batches run between them.
struct Embedder: Sendable {
    /// Texts encoded in one turn of the inference thread (as zero-shot classes are).
    static let textChunk = Tagger.classTextChunk

    let registry: ModelRegistry
    let batcher: InferenceBatcher
    let decodeLimits: DecodeLimits

    func embed(_ request: EmbeddingsRequest) async throws -> EmbeddingsResponse {
        if request.imageCount > batcher.configuration.maxQueue {
            throw APIError(.contentTooLarge, code: "too_many_images",
                           message: "\(request.imageCount) images can never fit the encoder queue (batching.max_queue = \(batcher.configuration.maxQueue))",
                           param: "input")
        }
        let modelName: String
        if let model = request.model { modelName = model } else { modelName = try await registry.defaultModelName() }
        let encoder = try await registry.encoder(named: modelName)
        let width = encoder.model.configuration.projectionDim

        // Decode every image before any text is encoded: a broken image fails the request at once.
        var imageIndices: [Int] = [], images: [UploadedImage] = []
        var textIndices: [Int] = [], texts: [String] = []
        for (index, input) in request.inputs.enumerated() {
            switch input {
            case .image(let image): imageIndices.append(index); images.append(image)
            case .text(let text): textIndices.append(index); texts.append(text)
            }
        }
        let prepared = images.isEmpty ? [] : try await ImagePreparation.prepare(images, for: encoder, limits: decodeLimits)

        var vectors = [[Float]](repeating: [], count: request.inputs.count)
        let contextLength = encoder.model.configuration.contextLength
        let tokens = texts.map { encoder.model.tokenizer.tokenize($0, contextLength: contextLength) }
        // The images wait in the batcher's queue while the texts take their turns.
        let batcher = self.batcher
        async let encodedImages: [EncodedImage] = prepared.isEmpty ? [] : batcher.encode(prepared.map { $0.pixels }, with: encoder)
        var textFeatures: [Float] = []
        for start in stride(from: 0, to: tokens.count, by: Self.textChunk) {
            let chunk = Array(tokens[start..<min(start + Self.textChunk, tokens.count)])
            textFeatures += try await batcher.perform { try encoder.model.text.encode(tokens: chunk) }
            try Task.checkCancellation()
        }
        for (row, index) in textIndices.enumerated() { vectors[index] = Array(textFeatures[(row * width)..<((row + 1) * width)]) }
        for (encoded, index) in zip(try await encodedImages, imageIndices) { vectors[index] = encoded.features }

        if request.normalize { vectors = vectors.map { L2Normalize.rows($0, width: width) } }
        // CLIP reads at most the context length; SOT and EOT count, as OpenAI counts a text's tokens.
        let textTokens = tokens.reduce(0) { $0 + $1.count }
        return EmbeddingsResponse(model: encoder.name, weightsSHA256: encoder.digest, vectors: vectors, encoding: request.encoding,
                                  usage: .init(promptTokens: textTokens, totalTokens: textTokens, images: prepared.count))
    }
}
