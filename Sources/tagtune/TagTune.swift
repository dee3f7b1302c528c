import ArgumentParser
import Server

/// The `tagtune` command: the server and the engine's tools behind one binary.
@main
struct TagTune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tagtune",
        abstract: "Multi-label image tagging with a frozen CLIP and LMPT prompt tuning.",
        version: BuildInfo.version,
        subcommands: [Serve.self, EmbedImage.self, EmbedText.self, Tag.self, Tune.self, Eval.self, ImportLMPT.self, Bench.self, Pull.self])
}
