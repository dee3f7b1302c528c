import CLIP
import Compute
import Foundation
import Testing
@testable import Tuning

/// ∂(class features)/∂(context vectors) against PyTorch autograd for class-specific and generic
/// contexts and the three class-token positions (Tests/Fixtures/clip/prompt_grad.safetensors).
@Suite("Prompt learner gradients")
struct PromptLearnerGradientTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clip")
    static let model = try! CLIPModel(directory: root.appendingPathComponent("openclip-tiny-f32"))

    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map { abs($0) }.max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: [true, false], ClassTokenPosition.allCases)
    func contextGradientMatchesAutograd(classSpecific: Bool, position: ClassTokenPosition) throws {
        let fixture = try SafeTensorsFile(url: Self.root.appendingPathComponent("prompt_grad.safetensors"))
        let key = "\(classSpecific ? "csc" : "generic").\(position.rawValue)"
        let model = Self.model
        let context = PromptContext(classSpecific: classSpecific, length: 4, width: model.configuration.text.width,
                                    values: try fixture.floats("\(key).ctx"))
        let learner = try PromptLearner(model: model, classNames: ["dog", "traffic light", "person"],
                                        context: context, position: position)
        // Same token layout as the reference (context slots hold 0 there too).
        let ids = try fixture.int64s("\(key).ids").map { Int32($0) }
        let width = try fixture.info("\(key).ids").shape[1]
        #expect(learner.tokens == width)
        for (c, prompt) in learner.prompts.enumerated() {
            #expect(Array(ids[(c * width)..<(c * width + prompt.count)]) == prompt, "\(key) class \(c)")
        }
        let (features, trace) = learner.forward()
        let featureError = Self.relativeError(features, try fixture.floats("\(key).features"))
        #expect(featureError < 1e-5, "\(key) features: \(featureError)")
        let grad = learner.backward(featureGradient: try fixture.floats("\(key).r"), trace: trace)
        let gradError = Self.relativeError(grad, try fixture.floats("\(key).dctx"))
        #expect(gradError < 1e-4, "\(key) dctx: \(gradError)")
        print("prompt gradient \(key): features \(featureError), dctx \(gradError)")
    }

    /// One context for every class: the rows before the name run once (SOT and the context at the
    /// end, SOT and half of it in the middle, nothing with the name in front), and features and
    /// gradients equal those of the prompts run one by one.
    @Test(arguments: [(ClassTokenPosition.end, 5), (.middle, 3), (.front, 0)])
    func sharedPrefixIsExact(position: ClassTokenPosition, prefix: Int) throws {
        let model = Self.model
        let context = PromptContext.random(classes: 3, length: 4, width: model.configuration.text.width, kind: .generic, seed: 5)
        let learner = try PromptLearner(model: model, classNames: ["dog", "traffic light", "person"],
                                        context: context, position: position)
        #expect(learner.sharedPrefix == prefix)
        var rng = SplitMix64(seed: 8)
        let r = (0..<(3 * model.configuration.projectionDim)).map { _ in rng.nextGaussian() }
        let (shared, sharedTrace) = learner.forward()
        let sharedGradient = learner.backward(featureGradient: r, trace: sharedTrace)
        learner.sharesPrefix = false
        #expect(learner.sharedPrefix == 0)
        let (separate, separateTrace) = learner.forward()
        let separateGradient = learner.backward(featureGradient: r, trace: separateTrace)
        #expect(Self.relativeError(shared, separate) < 1e-5)
        #expect(Self.relativeError(sharedGradient, separateGradient) < 1e-5)
    }

    @Test func servingFeaturesEqualTrainingFeatures() throws {
        let model = Self.model
        let context = PromptContext.random(classes: 2, length: 5, width: model.configuration.text.width, classSpecific: true, seed: 1)
        let learner = try PromptLearner(model: model, classNames: ["cat", "traffic light"], context: context)
        // Serving runs the text tower's last layer for the pooled rows alone, so the sums are
        // ordered differently from training's full layer: equal to rounding, not bit for bit.
        let error = Self.relativeError(learner.classFeatures(), learner.forward().features)
        #expect(error < 1e-6, "serving vs training features: max relative error \(error)")
    }

    @Test func contextFromWordsReproducesTheHandWrittenPrompt() throws {
        // "a photo of a" as context + "dog" at the end is exactly the prompt "a photo of a dog.".
        let model = Self.model
        let context = try PromptContext.fromWords("a photo of a", model: model, classes: 1, classSpecific: true)
        #expect(context.length == model.tokenizer.encode("a photo of a").count)
        let learner = try PromptLearner(model: model, classNames: ["dog"], context: context)
        let prompt = try model.encode(texts: ["a photo of a dog."])
        #expect(Self.relativeError(learner.classFeatures(), prompt) < 1e-6)
    }

    @Test func badContextIsRefused() throws {
        let model = Self.model
        let wrong = PromptContext(classSpecific: true, length: 4, width: model.configuration.text.width, values: [0, 1])
        #expect(throws: TuningError.self) { try PromptLearner(model: model, classNames: ["a", "b"], context: wrong) }
    }
}
