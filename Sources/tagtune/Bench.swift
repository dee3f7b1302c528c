import ArgumentParser
import CLIP
import Compute
import Foundation

/// `tagtune bench`: the engine's benchmarks (release builds only give meaningful numbers).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: the towers (default), prompt-tuning steps and the GEMM paths.",
        subcommands: [BenchTowers.self, BenchTune.self, BenchGEMM.self],
        defaultSubcommand: BenchTowers.self)
}

/// `tagtune bench towers`: throughput of the towers on a checkpoint, with the load time and peak memory.
/// Pixels and texts are synthetic: the cost of the towers does not depend on the values.
struct BenchTowers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "towers",
        abstract: "Measure images/s of the vision tower and texts/s of the text tower.")

    @Option(help: "Checkpoint folder (Hugging Face or open_clip layout).") var model: String
    @Option(help: "Comma-separated vision batch sizes.") var batches: String = "1,8,32"
    @Option(help: "Texts per text-tower batch (0: skip the text tower).") var textBatch: Int = 64
    @Option(help: "Seconds to measure each case (after one warm-up pass).") var seconds: Double = 5
    @Option(help: "Threads for matrix products (default: all cores).") var threads: Int?
    @Option(help: "Precision of the weight products: f32 or bf16 (f32 on CPUs without AVX-512).") var precision: Precision = .f32
    @Option(help: "A ResNet's convolutions: onednn (oneDNN's convolution where it has one) or gemm (im2col + GEMM).")
    var convolution: ConvolutionKernel = .onednn
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    enum ConvolutionKernel: String, ExpressibleByArgument { case onednn, gemm }

    func run() throws {
        Convolution.prefersOneDNN = convolution == .onednn
        let start = ContinuousClock.now
        let clip = try loadModel(model, threads: threads, precision: precision)
        let loadSeconds = (ContinuousClock.now - start).seconds
        let cfg = clip.configuration
        let peak = sgemmPeak()
        let flops = clip.vision.flopsPerImage
        let gflopPerImage = flops.written / 1e9

        // (tower, batch, items/s, ms per batch, ms per batch of the layers' projections alone)
        var rows: [(String, Int, Double, Double, Double?)] = []
        for batch in batches.split(separator: ",").compactMap({ Int($0) }) where batch > 0 {
            var rng = SplitMix64(seed: 1)
            let pixels = (0..<(batch * 3 * cfg.imageSize * cfg.imageSize)).map { _ in rng.nextGaussian() }
            let perBatch = measure { _ = try? clip.encodeImages(pixels: pixels, count: batch) }
            // The ViT's layers' projections alone (no such split for a ResNet).
            let projections = (clip.vision as? VisionTower).map { vit in measure { vit.benchmarkProjections(batch: batch) } }
            rows.append(("vision", batch, Double(batch) / perBatch, perBatch * 1000, projections.map { $0 * 1000 }))
        }
        if textBatch > 0 {
            let captions = (0..<textBatch).map { "a photo of \($0 % 7 + 1) small red stars above a blue ring on a table number \($0)" }
            let tokens = captions.map { clip.tokenizer.tokenize($0, contextLength: cfg.contextLength) }
            let perTextBatch = measure { _ = try? clip.text.encode(tokens: tokens) }
            rows.append(("text", textBatch, Double(textBatch) / perTextBatch, perTextBatch * 1000, nil))
        }
        let peakMiB = peakResidentMiB()

        if json {
            let cases = rows.map { row in
                let projections = row.4.map { #","projections_ms_per_batch":\#(String(format: "%.2f", $0))"# } ?? ""
                return #"{"tower":"\#(row.0)","batch":\#(row.1),"per_second":\#(String(format: "%.2f", row.2)),"ms_per_batch":\#(String(format: "%.2f", row.3))\#(projections)}"#
            }
            print(#"{"model":\#(quote(model)),"threads":\#(BLAS.threads),"precision":"\#(clip.precision.rawValue)","weight_products":\#(quote(clip.weightProducts)),"sgemm_gflops":\#(String(format: "%.1f", peak)),"load_seconds":\#(String(format: "%.3f", loadSeconds)),"peak_rss_mib":\#(peakMiB),"vision_gflop_per_image":\#(String(format: "%.2f", gflopPerImage)),"cases":[\#(cases.joined(separator: ","))]}"#)
            return
        }
        let tower = cfg.resnet.map { "ResNet \($0.blocks.map(String.init).joined(separator: "-")) width \($0.width)" }
            ?? "ViT \(cfg.vision.layers)x\(cfg.vision.width) patch \(cfg.patchSize)"
        print("model \(model): vision \(tower) @\(cfg.imageSize)px (\(String(format: "%.2f", gflopPerImage)) GFLOP/image; \(String(format: "%.2f", flops.performed / 1e9)) performed, the read-out for one token alone), text \(cfg.text.layers)x\(cfg.text.width)")
        print("BLAS: \(BLAS.configuration), \(BLAS.threads) threads; sgemm peak now \(String(format: "%.1f", peak)) GFLOP/s (OpenBLAS or oneDNN, the faster)")
        print("weight products: \(clip.weightProducts), \(clip.precision.rawValue)")
        print(String(format: "load %.2f s, peak RSS %d MiB", loadSeconds, peakMiB))
        print("tower   batch   per second   ms/batch   GFLOP/s   % of sgemm peak   projections alone, ms/batch")
        for (tower, batch, rate, ms, projections) in rows {
            let gflops = tower == "vision" ? String(format: "%8.1f   %5.1f%%", rate * gflopPerImage, 100 * rate * gflopPerImage / peak) : "       -"
            let floor = projections.map { String(format: "           %8.2f", $0) } ?? ""
            print(tower.padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: " %5d   %10.2f   %8.2f  ", batch, rate, ms) + gflops + floor)
        }
    }

    func measure(_ body: () -> Void) -> Double { measureSeconds(seconds, body) }
}

/// The process's peak resident set (VmHWM), in MiB.
func peakResidentMiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
}

/// Seconds per call: one warm-up, then as many calls as fit in `seconds` (at least 3).
func measureSeconds(_ seconds: Double, _ body: () -> Void) -> Double {
    body()
    var calls = 0
    let start = ContinuousClock.now
    while calls < 3 || (ContinuousClock.now - start).seconds < seconds {
        body()
        calls += 1
    }
    return (ContinuousClock.now - start).seconds / Double(calls)
}

/// GFLOP/s of a 1024³ single-precision GEMM right now, the faster of OpenBLAS and oneDNN's packed
/// product: the ceiling the other numbers are compared with. (OpenBLAS alone was no ceiling where
/// it does not know the CPU: Debian's 0.3.21 runs SSE3 kernels on some AVX-512 Xeons, and the
/// vision tower, all on oneDNN, showed 360% of it.)
func sgemmPeak() -> Double {
    let n = 1024
    let a = Tensor(zeros: [n, n]), b = Tensor(zeros: [n, n]), c = Tensor(zeros: [n, n])
    for i in 0..<(n * n) { a.pointer[i] = Float(i % 7) * 0.1; b.pointer[i] = Float(i % 5) * 0.1 }
    let packed = try? PackedWeight(b.pointer, outFeatures: n, inFeatures: n, precision: .f32)
    // The fastest of the calls in one second: a peak, so a moment of load on a shared machine
    // does not lower it.
    func fastest(_ product: () -> Void) -> Double {
        var fastest = Double.infinity
        _ = measureSeconds(1) {
            let start = ContinuousClock.now
            product()
            fastest = min(fastest, (ContinuousClock.now - start).seconds)
        }
        return 2 * Double(n * n * n) / fastest / 1e9
    }
    let blas = fastest { gemm(transA: false, transB: true, m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer, ldc: n) }
    guard let packed else { return blas }
    return max(blas, fastest { packed.forward(out: c.pointer, inp: a.pointer, rows: n, bias: nil) })
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
