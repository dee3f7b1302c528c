import ArgumentParser
import Foundation
import Hub
import Server
import Synchronization

/// `tagtune pull`: a CLIP checkpoint from the Hugging Face hub into the models folder.
struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a CLIP checkpoint from the Hugging Face hub into the models folder.",
        discussion: """
            Fetches only what a CLIP folder needs (configuration, safetensors weights, tokenizer, \
            preprocessing), checks every file's size and the weights' SHA-256 against the hub's metadata, \
            and renames the complete folder to <models>/<ORG>--<NAME> at the end. An interrupted pull \
            resumes where it stopped when run again. HF_TOKEN is sent for private or gated repositories; \
            HF_ENDPOINT (or --endpoint) points at another hub.
            """)

    @Argument(help: "The repository, ORG/NAME (e.g. openai/clip-vit-base-patch32).") var repository: String
    @Option(help: "Branch, tag or commit.") var revision = "main"
    @Option(help: "Models folder (default: the models.dir configuration key, \"models\" unless set).") var modelsDir: String?
    @Option(help: "Hub URL (default: $HF_ENDPOINT, else https://huggingface.co).") var endpoint: String?
    @Option(help: "Folder name in the models folder (default: ORG--NAME).") var name: String?
    @Option(help: "Configuration file, for models.dir (as for serve).") var config: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let repositoryID: HubRepositoryID
        let hub: HubEndpoint
        do {
            repositoryID = try HubRepositoryID(repository)
            hub = try HubEndpoint.resolve(explicit: endpoint, environment: environment)
        } catch {
            throw ValidationError("\(error)")
        }
        let modelsDirectory: String
        if let modelsDir {
            modelsDirectory = modelsDir
        } else {
            do {
                modelsDirectory = try ServerConfiguration.load(file: config, environment: environment, flags: [:]).modelsDirectory
            } catch let error as ConfigurationError {
                throw ValidationError("configuration: \(error.description)")
            }
        }

        var pull = ModelPull(repository: repositoryID, modelsDirectory: URL(fileURLWithPath: modelsDirectory), endpoint: hub)
        pull.revision = revision
        if let name { pull.folderName = name }
        pull.userAgent = "tagtune/\(BuildInfo.version)"

        let display = PullDisplay(terminal: isatty(STDERR_FILENO) != 0)
        let outcome: ModelPull.Outcome
        do {
            outcome = try await pull.run(events: { display.show($0) })
        } catch {
            display.interrupted()
            throw CommandFailure("pull \(repositoryID): \(error)")
        }
        let folder = "\(modelsDirectory)/\(pull.folderName)"
        switch outcome {
        case .alreadyPresent(_, let record):
            let commit = record.map { " (\($0.repository) at \($0.commit.prefix(12)))" } ?? ""
            print("\(folder) is already here\(commit); nothing was downloaded. Remove the folder to pull it again.")
        case .pulled(_, let record):
            let bytes = record.files.reduce(Int64(0)) { $0 + $1.size }
            print("\(record.repository) at \(record.commit.prefix(12)) → \(folder) (\(record.layout) layout, \(record.files.count) files, \(ByteCount.text(bytes)))")
        }
    }
}

/// Pull progress on standard error: a redrawn bar (bytes, rate, ETA) on a terminal, plain lines
/// otherwise (at most one progress line per file every 10 s, so logs stay readable).
final class PullDisplay: Sendable {
    private struct Transfer {
        var name: String
        var size: Int64?
        var offset: Int64
        var received: Int64
        var started = ContinuousClock.now
        var lastShown = ContinuousClock.now
    }

    private let terminal: Bool
    private let current = Mutex<Transfer?>(nil)

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ event: PullEvent) {
        current.withLock { transfer in
            switch event {
            case .resolved(let repository, let revision, let commit, let layout, let files):
                write("\(repository) \(revision) is commit \(commit.prefix(12)); \(layout.rawValue) layout: \(files.joined(separator: ", "))\n")
            case .fileStarted(let name, let size, let offset):
                transfer = Transfer(name: name, size: size, offset: offset, received: offset)
                if !terminal {
                    let resume = offset > 0 ? ", resuming at \(ByteCount.text(offset))" : ""
                    write("\(name): \(size.map(ByteCount.text) ?? "size unknown")\(resume)\n")
                }
            case .fileProgress(_, let received, _):
                guard var state = transfer else { return }
                state.received = received
                let now = ContinuousClock.now
                if now - state.lastShown >= (terminal ? .milliseconds(100) : .seconds(10)) {
                    state.lastShown = now
                    write(terminal ? "\r\u{1B}[K" + line(state) : line(state) + "\n")
                }
                transfer = state
            case .rangeIgnored(let name):
                write(clear + "\(name): the server ignored the range request; downloading the whole file again\n")
            case .retrying(let name, let attempt, let reason):
                write(clear + "\(name): \(reason); try \(attempt) resumes from what arrived\n")
            case .fileFinished(let name, let size, let sha256, let reused):
                if reused {
                    write("\(name): \(ByteCount.text(size)), finished by an earlier pull\n")
                } else {
                    let seconds = transfer.map { Self.seconds(ContinuousClock.now - $0.started) } ?? 0
                    let moved = size - (transfer?.offset ?? 0)
                    write(clear + "\(name): \(ByteCount.text(size)) in \(String(format: "%.1f", seconds)) s"
                          + " (\(Self.rate(moved, seconds))), sha256 \(sha256)\n")
                }
                transfer = nil
            }
        }
    }

    /// Ends a half-drawn bar before the error message.
    func interrupted() {
        if terminal, current.withLock({ $0 != nil }) { write("\n") }
    }

    private var clear: String { terminal ? "\r\u{1B}[K" : "" }

    private func line(_ state: Transfer) -> String {
        let seconds = Self.seconds(ContinuousClock.now - state.started)
        let moved = state.received - state.offset
        var text = "\(state.name) "
        if let size = state.size, size > 0 {
            text += ProgressLine.bar(Int(state.received / 1024), Int(size / 1024)) + " "
            text += "\(ByteCount.text(state.received)) / \(ByteCount.text(size))  \(Self.rate(moved, seconds))"
            let eta = moved > 0 ? Double(size - state.received) * seconds / Double(moved) : .infinity
            text += "  ETA \(ProgressLine.duration(eta))"
        } else {
            text += "\(ByteCount.text(state.received))  \(Self.rate(moved, seconds))"
        }
        return text
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    static func rate(_ bytes: Int64, _ seconds: Double) -> String {
        seconds > 0 ? ByteCount.text(Int64(Double(bytes) / seconds)) + "/s" : "–"
    }
}
