import Foundation
import Synchronization
import Testing
import Tuning

/// The `tagtune` commands as a user runs them: output formats, `--` handling, exit codes and
/// messages, and a whole tune → eval → tag round trip on the tiny fixture checkpoint.
@Suite("Command line", .serialized)
struct CommandLineTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static let model = fixtures.appendingPathComponent("clip/hf-tiny-f32").path

    /// The `tagtune` binary built next to this test bundle.
    static let binary: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("tagtune").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("tagtune")
    }()

    struct Run {
        let status: Int32
        let output: String
        let error: String
        var lines: [[String: Any]] {
            output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = repository
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Standard error is drained on another thread: read one after the other, a command that
        // filled the error pipe (64 KiB) before closing its output would wait on this forever.
        let errorData = Mutex(Data())
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errorData.withLock { $0 = data }
            drained.signal()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        let error = errorData.withLock { $0 }
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self), error: String(decoding: error, as: UTF8.self))
    }

    static func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func embedTextPrintsTokensAndEmbeddingsInInputOrder() throws {
        let result = try Self.run(["embed-text", "--model", Self.model, "a photo of a cat", "", "--", "-dash first"])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.lines
        #expect(lines.map { $0["input"] as? String } == ["a photo of a cat", "", "-dash first"])
        let empty = lines[1]["tokens"] as! [Int]
        #expect(empty == [1012, 1013], "the empty text is [SOT, EOT]")
        #expect(lines.allSatisfy { ($0["embedding"] as? [Double])?.count == 32 })
    }

    /// oneDNN picks its kernels for the CPU; capped to AVX2 (a CPU without AVX-512) or SSE4.1 it
    /// says so and the image features stay the same to float32 rounding. On an AVX-512 machine the
    /// AVX2 run also changes the packed layout (plain instead of blocked) and with it the route.
    /// The capped runs and one more set `TAGTUNE_GEMM=onednn`: on AVX-512 the products would
    /// otherwise run on the engine's own panels, which oneDNN's cap does not reach.
    @Test func lowerInstructionSetsGiveTheSameFeatures() throws {
        let image = Self.fixtures.appendingPathComponent("images/jpeg_baseline_420.jpg").path
        let png = Self.fixtures.appendingPathComponent("images/png_rgb.png").path
        func features(_ environment: [String: String]) throws -> [[Double]] {
            let result = try Self.run(["embed-image", "--model", Self.model, image, png], environment: environment)
            #expect(result.status == 0, "\(result.error)")
            return result.lines.map { $0["embedding"] as? [Double] ?? [] }
        }
        let native = try features([:])
        #expect(native.count == 2 && native.allSatisfy { $0.count == 32 })
        for (a, b) in zip(native, try features(["TAGTUNE_GEMM": "onednn"])) {
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-4, "oneDNN's products against the default: features differ by \(worst)")
        }
        for isa in ["AVX2", "SSE41"] {
            let capped = ["ONEDNN_MAX_CPU_ISA": isa, "TAGTUNE_GEMM": "onednn"]
            let report = try Self.run(["bench", "gemm", "--rows", "3", "--shapes", "128x768", "--rounds", "1", "--seconds", "0.01"],
                                      environment: capped)
            #expect(report.status == 0, "\(report.error)")
            let line = report.output.split(separator: "\n").first.map(String.init) ?? ""
            #expect(line.contains("instruction set \(isa.lowercased())") || (isa == "AVX2" && line.contains("instruction set sse41")),
                    "\(isa): \(line)")
            let lower = try features(capped)
            for (a, b) in zip(native, lower) {
                let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
                #expect(worst < 1e-4, "\(isa): features differ by \(worst)")
            }
        }
    }

    @Test func embedImageAndZeroShotTag() throws {
        let image = Self.fixtures.appendingPathComponent("images/jpeg_baseline_420.jpg").path
        let embedded = try Self.run(["embed-image", "--model", Self.model, image, image])
        #expect(embedded.status == 0, "\(embedded.error)")
        #expect(embedded.lines.count == 2)
        // The same image twice: equal up to summation order (rows of one GEMM take different kernel paths).
        let first = embedded.lines[0]["embedding"] as! [Double], second = embedded.lines[1]["embedding"] as! [Double]
        #expect(zip(first, second).allSatisfy { abs($0 - $1) < 1e-5 })
        let tagged = try Self.run(["tag", "--model", Self.model, "--classes", "cat, dog,traffic light", image])
        #expect(tagged.status == 0, "\(tagged.error)")
        let labels = tagged.lines[0]["labels"] as! [[String: Any]]
        #expect(Set(labels.map { $0["label"] as! String }) == ["cat", "dog", "traffic light"])
        let total = labels.reduce(0.0) { $0 + ($1["score"] as! Double) }
        #expect(abs(total - 1) < 1e-4, "zero-shot scores are a softmax over the given classes")
        #expect(labels.allSatisfy { $0["threshold"] as? Double == 0.5 && $0["logit"] is Double })
    }

    @Test func tuneHasAnOptionForEveryHyperparameterOfTheTable() throws {
        let help = try Self.run(["tune", "--help"])
        #expect(help.status == 0)
        for field in TuningHyperparameters.table where !field.legacy {   // class_specific: the API's older spelling of context
            #expect(help.output.contains("--\(field.option) "), "--\(field.option)")
            #expect(help.output.contains(String(field.help.prefix(30))), "the help of --\(field.option) is the table's")
        }
        let refused = try Self.run(["tune", "--model", Self.model, "--dataset", "x", "--out", "y", "--dbl-mu", "50"])
        #expect(refused.status != 0)
        #expect(refused.error.contains("--dbl-mu: must be in (0, 10), got 50"), "\(refused.error)")
    }

    @Test func badInputFailsWithAMessage() throws {
        let missing = try Self.run(["embed-text", "--model", "/nonexistent/model", "x"])
        #expect(missing.status != 0)
        #expect(missing.error.contains("/nonexistent/model"))
        let broken = Self.temporaryFolder().appendingPathComponent("broken.jpg")
        try Data("not an image".utf8).write(to: broken)
        let result = try Self.run(["embed-image", "--model", Self.model, broken.path])
        #expect(result.status != 0)
        #expect(result.error.contains("broken.jpg"))
        let both = try Self.run(["tag", "--model", Self.model, broken.path])
        #expect(both.status != 0, "tag needs --classes or --prompts")
    }

    @Test func tuneEvalAndTagWithThePromptSet() throws {
        // A small dataset of fixture photos with made-up labels.
        let folder = Self.temporaryFolder()
        let images = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.appendingPathComponent("images").path)
            .filter { $0.hasPrefix("jpeg_") && !$0.contains("bad") && !$0.contains("truncated") }.sorted()
        let classes = ["cat", "dog", "traffic light"]
        var manifest = ""
        for (i, name) in images.enumerated() {
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("images/\(name)"), to: folder.appendingPathComponent(name))
            manifest += #"{"image": "\#(name)", "labels": ["\#(classes[i % 3])"]}"# + "\n"
        }
        try manifest.write(to: folder.appendingPathComponent("manifest.jsonl"), atomically: true, encoding: .utf8)
        try classes.joined(separator: "\n").write(to: folder.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
        let out = Self.temporaryFolder().appendingPathComponent("prompts")
        let cache = Self.temporaryFolder().path

        let tuned = try Self.run(["tune", "--model", Self.model, "--dataset", folder.path, "--out", out.path, "--epochs", "2",
                                  "--batch-size", "8", "--n-ctx", "4", "--cache", cache, "--seed", "3", "--json"])
        #expect(tuned.status == 0, "\(tuned.error)")
        let summary = try #require(tuned.lines.last)
        #expect((summary["hyperparameters"] as? [String: Any])?["n_ctx"] as? Int == 4)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("prompts.safetensors").path))
        let manifestJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("prompt_set.json"))) as! [String: Any]
        #expect(manifestJSON["classes"] as? [String] == classes)
        #expect((manifestJSON["thresholds"] as? [Double])?.count == 3)

        let evaluated = try Self.run(["eval", "--model", Self.model, "--prompts", out.path, "--dataset", folder.path, "--cache", cache, "--json"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let report = try #require(evaluated.lines.first)
        for key in ["map", "head_map", "medium_map", "tail_map", "per_class", "cf1", "of1"] { #expect(report.keys.contains(key), "\(key)") }
        let perClass = report["per_class"] as! [[String: Any]]
        #expect(perClass.map { $0["class"] as! String } == classes)
        for key in ["ap", "count", "group", "threshold", "precision", "recall", "f1"] { #expect(perClass[0].keys.contains(key), "\(key)") }

        let tagged = try Self.run(["tag", "--model", Self.model, "--prompts", out.path, folder.appendingPathComponent(images[0]).path])
        #expect(tagged.status == 0, "\(tagged.error)")
        let labels = tagged.lines[0]["labels"] as! [[String: Any]]
        #expect(labels.count == 3)
        #expect(labels.allSatisfy { ($0["score"] as! Double) >= 0 && ($0["score"] as! Double) <= 1 && $0["present"] is Bool })

        // The same seed gives the same prompt set (same folder name, so the same id in the metadata).
        let again = Self.temporaryFolder().appendingPathComponent("prompts")
        _ = try Self.run(["tune", "--model", Self.model, "--dataset", folder.path, "--out", again.path, "--epochs", "2",
                          "--batch-size", "8", "--n-ctx", "4", "--cache", cache, "--seed", "3"])
        #expect(try Data(contentsOf: again.appendingPathComponent("prompts.safetensors")) == Data(contentsOf: out.appendingPathComponent("prompts.safetensors")))

        // A prompt set is refused next to other encoder weights.
        let other = try Self.run(["tag", "--model", Self.fixtures.appendingPathComponent("clip/openclip-tiny-gelu-f32").path, "--prompts", out.path,
                                  folder.appendingPathComponent(images[0]).path])
        #expect(other.status != 0)
        #expect(other.error.contains("tuned for encoder weights"))
    }

    @Test func importLMPTConvertsTheOfficialVOCList() throws {
        let annotations = Self.repository.deletingLastPathComponent().appendingPathComponent("shared/data/lmpt-annotations")
        try #require(FileManager.default.fileExists(atPath: annotations.path), "the LMPT annotations belong at \(annotations.path)")
        let out = Self.temporaryFolder().appendingPathComponent("voc")
        let result = try Self.run(["import-lmpt", "--benchmark", "voc", "--annotations", annotations.path, "--out", out.path])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("1142 images, 20 classes (head 6, medium 6, tail 8"))
        let lines = try String(contentsOf: out.appendingPathComponent("manifest.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1142)
    }
}
