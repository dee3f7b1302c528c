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

    /// Sequences that begin with the same rows, run once as a shared prefix, give the features of
    /// the sequences run separately, and the gradient of each row: a prefix row's is the sum over
    /// the sequences (its only copy serves them all), a suffix row's is its own.
    @Test func sharedPrefixEqualsSeparateSequences() throws {
        let model = try CLIPModel(directory: Self.root.appendingPathComponent("openclip-tiny-gelu-f32"))
        let width = model.configuration.text.width, d = model.configuration.projectionDim
        let (prefix, sequences, suffix) = (5, 3, 4)
        let tokens = prefix + suffix
        let pool = [3, 1, 2]   // within each suffix; rows after a sequence's pooled row are padding
        var rng = SplitMix64(seed: 11)
        let shared = (0..<(prefix * width)).map { _ in 0.5 * rng.nextGaussian() }
        let tails = (0..<sequences).map { _ in (0..<(suffix * width)).map { _ in 0.5 * rng.nextGaussian() } }
        let separate = Tensor((0..<sequences).flatMap { shared + tails[$0] }, shape: [sequences, tokens, width])
        let packed = Tensor(shared + tails.flatMap { $0 }, shape: [prefix + sequences * suffix, width])
        let r = (0..<(sequences * d)).map { _ in rng.nextGaussian() }

        let (expected, separateTrace) = model.text.forwardTraining(embeddings: separate, batch: sequences, tokens: tokens,
                                                                   poolAt: pool.map { prefix + $0 })
        let (features, packedTrace) = model.text.forwardTraining(embeddings: packed, prefix: prefix, sequences: sequences,
                                                                 suffix: suffix, poolAt: pool)
        let featureError = Self.relativeError(features, expected)
        #expect(featureError < 1e-5, "features: \(featureError)")

        let dSeparate = model.text.backward(featureGradient: r, trace: separateTrace).array
        let dPacked = model.text.backward(featureGradient: r, trace: packedTrace).array
        var dExpected = [Float](repeating: 0, count: packed.count)
        for s in 0..<sequences {
            for t in 0..<tokens {
                let target = t < prefix ? t : prefix + s * suffix + t - prefix
                for i in 0..<width { dExpected[target * width + i] += dSeparate[(s * tokens + t) * width + i] }
            }
        }
        let gradientError = Self.relativeError(dPacked, dExpected)
        #expect(gradientError < 1e-5, "dx: \(gradientError)")
        #expect(dExpected.contains { $0 != 0 } && dPacked[(prefix * width)..<(prefix + suffix) * width].contains { $0 != 0 })
    }
}
