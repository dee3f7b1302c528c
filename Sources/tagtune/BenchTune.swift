import ArgumentParser
import CLIP
import Compute
import Foundation
import Tuning

/// `tagtune bench tune`: seconds per LMPT step on cached features (text tower forward and backward
/// for every class prompt cut at EOT, losses, update), seconds per epoch of a VOC-LT-sized set,
/// peak memory, and the step's GEMM lower bound at the sgemm peak measured in the same run. With
/// one context for all classes, the same step with every prompt run separately is timed beside
/// it (the shared prefix's peer).
struct BenchTune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Measure prompt-tuning steps on synthetic cached features.")

    @Option(help: "Checkpoint folder (its text tower is what a step runs).") var model: String
    @Option(help: "Comma-separated class counts to measure.") var classes: String = "20,80"
    @Option(help: "Context vectors per prompt (M).") var nCtx: Int = 16
    @Option(help: "Images per step.") var batchSize: Int = 64
    @Option(help: "Training images of an epoch (VOC-LT: 1,142).") var images: Int = 1142
    @Option(help: "Steps to time per case (after one warm-up step).") var steps: Int = 3
    @Option(help: "Threads for matrix products (default: all cores).") var threads: Int?
    @Flag(help: "Print JSON lines instead of a table.") var json = false

    func run() throws {
        let clip = try loadModel(model, threads: threads)
        let peak = sgemmPeak()
        if !json {
            print("text tower \(clip.configuration.text.layers)x\(clip.configuration.text.width), M = \(nCtx), batch \(batchSize), \(BLAS.threads) threads, sgemm peak \(String(format: "%.1f", peak)) GFLOP/s")
            print("classes  tokens  shared  s/step  s/step separate  GFLOP/step  floor s  step/floor  s/epoch (\(images) images)  peak RSS MiB")
        }
        for count in classes.split(separator: ",").compactMap({ Int($0) }) where count > 0 {
            let data = try Self.syntheticData(model: clip, classes: count, images: images)
            var h = TuningHyperparameters()
            h.contextLength = nCtx
            h.batchSize = batchSize
            h.epochs = 1
            let trainer = try PromptTrainer(model: clip, data: data, hyperparameters: h)
            let batch = Array(0..<min(batchSize, images))
            func secondsPerStep() throws -> Double {
                var state = trainer.initialState()
                _ = try trainer.step(batch: batch, state: &state, lr: 1e-4)          // warm-up
                let start = ContinuousClock.now
                for _ in 0..<steps { _ = try trainer.step(batch: batch, state: &state, lr: 1e-4) }
                return (ContinuousClock.now - start).seconds / Double(steps)
            }
            let shared = trainer.learner.sharedPrefix
            let perStep = try secondsPerStep()
            trainer.learner.sharesPrefix = false
            let separate = shared > 0 ? try secondsPerStep() : perStep
            trainer.learner.sharesPrefix = true
            let tokens = trainer.learner.tokens
            let gflop = Self.stepFLOPs(clip.configuration.text, sequences: count, tokens: tokens, prefix: shared) / 1e9
            let floor = gflop / peak
            let stepsPerEpoch = (images + batchSize - 1) / batchSize
            let epoch = perStep * Double(stepsPerEpoch)
            let rss = peakResidentMiB()
            if json {
                print(#"{"classes":\#(count),"tokens":\#(tokens),"shared_prefix":\#(shared),"seconds_per_step_separate":\#(String(format: "%.4f", separate)),"seconds_per_step":\#(String(format: "%.4f", perStep)),"gflop_per_step":\#(String(format: "%.1f", gflop)),"floor_seconds":\#(String(format: "%.4f", floor)),"seconds_per_epoch":\#(String(format: "%.3f", epoch)),"peak_rss_mib":\#(rss),"sgemm_gflops":\#(String(format: "%.1f", peak))}"#)
            } else {
                print(String(format: "%7d  %6d  %6d  %6.3f  %15.3f  %10.1f  %7.3f  %10.2f  %24.2f  %12d", count, tokens, shared, perStep,
                             separate, gflop, floor, perStep / floor, epoch, rss))
            }
        }
    }

    /// GEMM FLOPs of one step: the text tower forward over C sequences of T tokens (their first
    /// `prefix` rows once), plus the input-gradient backward (the same GEMMs again, attention's twice).
    static func stepFLOPs(_ t: TowerConfiguration, sequences: Int, tokens: Int, prefix: Int = 0) -> Double {
        let w = Double(t.width), f = Double(t.mlpWidth), tt = Double(tokens), p = Double(prefix)
        let n = p + Double(sequences) * (tt - p)
        let linear = 2 * n * (4 * w * w + 2 * w * f)
        let attention = 2 * 2 * (p * p + Double(sequences) * (tt - p) * tt) * w
        return Double(t.layers) * (2 * linear + 3 * attention)
    }

    /// Random unit image features, long-tailed labels, random caption features: the step's cost
    /// does not depend on the values.
    static func syntheticData(model: CLIPModel, classes: Int, images: Int) throws -> TrainingData {
        let d = model.configuration.projectionDim
        var rng = SplitMix64(seed: 42)
        let features = L2Normalize.rows((0..<(images * d)).map { _ in rng.nextGaussian() }, width: d)
        let captions = (0..<(images * d)).map { _ in rng.nextGaussian() }
        var labels = [Float](repeating: 0, count: images * classes)
        for i in 0..<images {
            labels[i * classes + Int(rng.next() % UInt64(classes))] = 1
            for c in 0..<classes where rng.nextFloat() < 0.3 / Float(c + 1) { labels[i * classes + c] = 1 }
        }
        let names = (0..<classes).map { "\($0) object" }   // no words shared at the start, as real names
        return try TrainingData(classNames: names, trainFeatures: features, trainLabels: labels, captionFeatures: captions,
                                validationFeatures: [], validationLabels: [], dimension: d)
    }
}
