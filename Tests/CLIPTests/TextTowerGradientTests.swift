import Compute
import Foundation
import Testing
@testable import CLIP

/// The text tower's backward to its input embeddings, against PyTorch autograd
/// (Tests/Fixtures/clip/text_grad.safetensors, scripts/fixtures/make_text_grad_fixtures.py)
/// and against finite differences of the Swift forward.
@Suite("Text tower backward")
struct TextTowerGradientTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clip")

    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map { abs($0) }.max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    @Test func gradientMatchesPyTorchAutograd() throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent("openclip-tiny-f32"))
        let fixture = try SafeTensorsFile(url: Self.root.appendingPathComponent("text_grad.safetensors"))
        let shape = try fixture.info("x").shape
        let (batch, tokens) = (shape[0], shape[1])
        let pool = try fixture.int64s("pool").map { Int($0) }
        let x = Tensor(try fixture.floats("x"), shape: shape)

        let (features, trace) = model.text.forwardTraining(embeddings: x, batch: batch, tokens: tokens, poolAt: pool)
        let featureError = Self.relativeError(features, try fixture.floats("features"))
        #expect(featureError < 1e-5, "features: \(featureError)")

        let dx = model.text.backward(featureGradient: try fixture.floats("r"), trace: trace)
        let gradientError = Self.relativeError(dx.array, try fixture.floats("dx"))
        #expect(gradientError < 1e-4, "dx: max relative error \(gradientError)")
        print("text tower backward vs autograd: features \(featureError), dx \(gradientError)")
    }

    @Test func trainingForwardEqualsInferenceForward() throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent("hf-tiny-f32"))
        let sequences: [[Int32]] = [model.tokenizer.tokenize("a photo of a cat"), model.tokenizer.tokenize("")]
        let tokens = sequences.map(\.count).max()!
        let inference = try model.text.encode(tokens: sequences)
        let x = model.text.embed(tokens: sequences, length: tokens)
        let (training, _) = model.text.forwardTraining(embeddings: x, batch: 2, tokens: tokens,
                                                       poolAt: sequences.map(model.text.poolingIndex))
        // Not bit-equal: inference runs the last layer for the pooled rows alone, so its sums are
        // ordered differently; the tuned prompts must still score what inference scores.
        let error = Self.relativeError(training, inference)
        #expect(error < 1e-6, "training vs inference forward: max relative error \(error)")
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent("openclip-tiny-gelu-f32"))
        let ids: [[Int32]] = [model.tokenizer.tokenize("red star"), model.tokenizer.tokenize("a blue ring and a cat")]
        let tokens = ids.map(\.count).max()!
        let pool = ids.map(model.text.poolingIndex)
        let base = model.text.embed(tokens: ids, length: tokens).array
        let d = model.configuration.projectionDim
        var rng = SplitMix64(seed: 3)
        let r = (0..<(2 * d)).map { _ in rng.nextGaussian() }
        func loss(_ values: [Float]) -> Double {
            let x = Tensor(values, shape: [2, tokens, model.configuration.text.width])
            let (f, _) = model.text.forwardTraining(embeddings: x, batch: 2, tokens: tokens, poolAt: pool)
            return zip(f, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let (_, trace) = model.text.forwardTraining(embeddings: Tensor(base, shape: [2, tokens, model.configuration.text.width]),
                                                     batch: 2, tokens: tokens, poolAt: pool)
        let analytic = model.text.backward(featureGradient: r, trace: trace).array
        // A sample of coordinates across both sequences and several positions, including padding
        // (whose gradient must be exactly zero: no pooled token can see it).
        var worst: Float = 0
        let step: Float = 1e-2
        for index in stride(from: 0, to: base.count, by: 37) {
            var plus = base, minus = base
            plus[index] += step
            minus[index] -= step
            let numeric = Float((loss(plus) - loss(minus)) / Double(2 * step))
            worst = max(worst, abs(numeric - analytic[index]) / max(analytic.map { abs($0) }.max()!, 1e-6))
        }
        #expect(worst < 5e-3, "finite differences: \(worst)")
        let width = model.configuration.text.width
        let firstLength = ids[0].count
        let padding = analytic[(firstLength * width)..<(tokens * width)]
        #expect(padding.allSatisfy { $0 == 0 }, "positions after the pooled token get no gradient")
    }
}
