import ArgumentParser
import Compute
import Foundation

/// `tagtune bench gemm`: the weight products of CLIP's towers through each GEMM path the engine
/// has, side by side in one process, in alternating rounds (the machines are shared and drift).
/// What `PackedWeight` chooses between is set from this table (docs/BENCHMARKS.md).
struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Compare OpenBLAS, the engine's own panel kernel (AVX-512) and oneDNN's packed matmul (f32, and bf16 where the CPU has it) on the towers' shapes.")

    @Option(help: "Comma-separated row counts (tokens × images: 50 is one ViT-B/32 image, 197 one ViT-B/16 image).")
    var rows: String = "1,50,197,400,1600,4928"
    @Option(help: "Comma-separated weight shapes OUTxIN.")
    var shapes: String = "2304x768,768x768,3072x768,768x3072,1536x512,2048x512"
    @Option(help: "Rounds; each round runs every path once per case.") var rounds: Int = 3
    @Option(help: "Seconds per path, case and round.") var seconds: Double = 0.3
    @Option(help: "Threads for matrix products (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object per case instead of a table.") var json = false

    func run() throws {
        if let threads { BLAS.setThreads(threads) }
        let rowCounts = rows.split(separator: ",").compactMap { Int($0) }
        let weightShapes = try shapes.split(separator: ",").map { text -> (Int, Int) in
            let parts = text.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { throw ValidationError("shape '\(text)' is not OUTxIN") }
            return (parts[0], parts[1])
        }
        // bf16 where oneDNN has a matmul for it on this CPU (AVX-512 and up).
        var precisions: [Precision] = [.f32]
        var bf16Problem: String?
        let probe = Tensor(zeros: [64, 64])
        do { _ = try PackedWeight(probe.pointer, outFeatures: 64, inFeatures: 64, precision: .bf16); precisions.append(.bf16) }
        catch { bf16Problem = "\(error)" }
        if !json { print("oneDNN \(OneDNN.version), instruction set \(OneDNN.isa); \(BLAS.configuration); \(BLAS.threads) threads") }
        // oneDNN runs bf16 on plain AVX-512 by converting in software: slower than f32, and not what
        // the server serves there (it keeps f32), so its column would mislead.
        if !json, precisions.contains(.bf16), !OneDNN.hasNativeBF16 {
            print("bf16: emulated on this CPU (no AVX512_BF16 or AMX; the server serves f32 here): its column is no bf16 figure")
        }
        for (n, k) in weightShapes {
            var rng = SplitMix64(seed: 7)
            let weight = Tensor((0..<(n * k)).map { _ in rng.nextGaussian() * 0.02 }, shape: [n, k])
            let bias = Tensor((0..<n).map { _ in rng.nextGaussian() * 0.02 }, shape: [n])
            let packed = try Dictionary(uniqueKeysWithValues: precisions.map {
                ($0, try PackedWeight(weight.pointer, outFeatures: n, inFeatures: k, precision: $0, kernel: .oneDNN))
            })
            let panels = try PackedWeight(weight.pointer, outFeatures: n, inFeatures: k, precision: .f32, kernel: .panels)
            for m in rowCounts {
                let input = Tensor((0..<(m * k)).map { _ in rng.nextGaussian() }, shape: [m, k])
                let out = Tensor(zeros: [m, n])
                var paths: [(String, () -> Void)] = [("openblas", {
                    Linear.forward(out: out.pointer, inp: input.pointer, weight: weight.pointer, bias: bias.pointer,
                                   rows: m, inFeatures: k, outFeatures: n)
                })]
                if panels.kernel == .panels {
                    paths.append(("panels-f32", {
                        panels.forward(out: out.pointer, inp: input.pointer, rows: m, bias: bias.pointer)
                    }))
                }
                for precision in precisions {
                    let weight = packed[precision]!
                    paths.append(("onednn-\(precision.rawValue)", {
                        weight.forward(out: out.pointer, inp: input.pointer, rows: m, bias: bias.pointer)
                    }))
                }
                var rates = [String: [Double]]()
                for _ in 0..<rounds {
                    for (name, body) in paths {
                        let perCall = measureSeconds(seconds, body)
                        rates[name, default: []].append(2 * Double(m * n * k) / perCall / 1e9)
                    }
                }
                let medians = paths.map { ($0.0, median(rates[$0.0]!)) }
                if json {
                    let fields = medians.map { #""\#($0.0)":\#(String(format: "%.1f", $0.1))"# }.joined(separator: ",")
                    print(#"{"rows":\#(m),"out":\#(n),"in":\#(k),"gflops":{\#(fields)}}"#)
                } else {
                    let base = medians[0].1
                    let text = medians.map { "\($0.0) \(String(format: "%6.1f", $0.1))" + ($0.0 == "openblas" ? "" : String(format: " (%.2f×)", $0.1 / base)) }
                    print(String(format: "%5d × %4dx%-4d  ", m, n, k) + text.joined(separator: "   "))
                }
            }
        }
        if !json, let bf16Problem { print("bf16: \(bf16Problem)") }
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
