import Foundation
import Testing

/// `tagtune pull` as a user runs it, against the fake hub: flags, `models.dir`, `HF_ENDPOINT`,
/// the summary on stdout, plain progress lines on a non-terminal stderr, exit codes.
@Suite("tagtune pull command")
struct PullCommandTests {
    /// The `tagtune` binary built next to this test bundle.
    static let binary: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("tagtune").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("tagtune")
    }()

    struct Run: Sendable {
        let status: Int32
        let output: String
        let error: String
    }

    /// Runs the binary in `directory` without blocking a concurrency thread (the fake hub needs them).
    static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> Run {
        let out = directory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let err = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TAGTUNE_") && !$0.key.hasPrefix("HF_") }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return Run(status: status, output: try String(contentsOf: out, encoding: .utf8), error: try String(contentsOf: err, encoding: .utf8))
    }

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-pull-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func pullsIntoTheModelsDirFlagAndPrintsASummary() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let directory = try Self.folder()
        let result = try await hub.serve { endpoint in
            try await Self.run(["pull", "tiny-org/clip-hf", "--endpoint", endpoint, "--models-dir", "shelf"], in: directory)
        }
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("→ shelf/tiny-org--clip-hf (huggingface layout, 7 files"))
        #expect(result.error.contains("model.safetensors: "))
        #expect(result.error.contains("sha256 "))
        #expect(!result.error.contains("\u{1B}["), "no terminal control codes when stderr is a file")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("shelf/tiny-org--clip-hf/model.safetensors").path))

        let again = try await hub.serve { endpoint in
            try await Self.run(["pull", "tiny-org/clip-hf", "--endpoint", endpoint, "--models-dir", "shelf"], in: directory)
        }
        #expect(again.status == 0)
        #expect(again.output.contains("already here"))
    }

    @Test func modelsDirAndEndpointComeFromConfigurationAndEnvironment() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let directory = try Self.folder()
        let result = try await hub.serve { endpoint in
            try await Self.run(["pull", "tiny-org/clip-openclip"], in: directory,
                               environment: ["HF_ENDPOINT": endpoint, "TAGTUNE_MODELS_DIR": "from-env"])
        }
        #expect(result.status == 0, "\(result.error)")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("from-env/tiny-org--clip-openclip/open_clip_model.safetensors").path))
    }

    @Test func failuresExitNonZeroWithTheReason() async throws {
        let hub = FakeHub(FakeRepositories.all())
        let directory = try Self.folder()
        let (missing, pickle, badName) = try await hub.serve { endpoint in
            (try await Self.run(["pull", "nobody/nothing", "--endpoint", endpoint, "--models-dir", "m"], in: directory),
             try await Self.run(["pull", "tiny-org/clip-bin-only", "--endpoint", endpoint, "--models-dir", "m"], in: directory),
             try await Self.run(["pull", "not/a/repo", "--endpoint", endpoint, "--models-dir", "m"], in: directory))
        }
        #expect(missing.status == 1)
        #expect(missing.error.contains("repository nobody/nothing was not found"))
        #expect(pickle.status == 1)
        #expect(pickle.error.contains("only PyTorch pickle weights (pytorch_model.bin)"))
        #expect(badName.status != 0)
        #expect(badName.error.contains("expected ORG/NAME"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("m/nobody--nothing").path))
    }
}
