import ArgumentParser
import Foundation
import Tuning

/// `tagtune import-lmpt`: converts the LMPT/DBL list format of VOC-LT and COCO-LT (a label file,
/// a list of `path label_id…` lines, a captions file) into a TagTune dataset folder.
struct ImportLMPT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-lmpt",
        abstract: "Convert LMPT/DBL annotation lists (VOC-LT, COCO-LT) into a dataset folder (manifest.jsonl + classes.txt).",
        discussion: """
            With --benchmark voc|coco and --split train|test the file names under --annotations are the \
            official ones (e.g. voc/voc_labels.txt, voc/voc_lt_train.txt, voc/voc_lt_captions.txt). With \
            --images the images are copied into --out so it is a complete dataset; without it only the \
            annotations are written (paths as in the list).
            """)

    enum Benchmark: String, ExpressibleByArgument { case voc, coco }
    enum Split: String, ExpressibleByArgument { case train, test }

    @Option(help: "voc or coco: use the official file names under --annotations.") var benchmark: Benchmark?
    @Option(help: "train or test (with --benchmark).") var split: Split = .train
    @Option(help: "Folder holding voc/ and coco/ (with --benchmark).") var annotations: String = "../shared/data/lmpt-annotations"
    @Option(help: "Label file (name id per line).") var labels: String?
    @Option(help: "List file (path label_id… per line).") var list: String?
    @Option(help: "Captions file (path and caption per line).") var captions: String?
    @Option(help: "Image root the list's paths are relative to; images are copied into --out.") var images: String?
    @Option(help: "Output dataset folder.") var out: String
    @Flag(help: "Keep images without labels (COCO-LT's test split has 48).") var allowEmptyLabels = false
    @Flag(help: "Print the import report as JSON.") var json = false

    func run() throws {
        var labelFile = labels, listFile = list, captionFile = captions
        if let benchmark {
            let root = URL(fileURLWithPath: annotations).appendingPathComponent(benchmark.rawValue)
            labelFile = labelFile ?? root.appendingPathComponent("\(benchmark.rawValue)_labels.txt").path
            listFile = listFile ?? root.appendingPathComponent("\(benchmark.rawValue)_lt_\(split.rawValue).txt").path
            let captionPath = root.appendingPathComponent("\(benchmark.rawValue)_lt_captions.txt").path
            if captionFile == nil, split == .train, FileManager.default.fileExists(atPath: captionPath) { captionFile = captionPath }
        }
        guard let labelFile, let listFile else {
            throw ValidationError("give --benchmark voc|coco, or --labels and --list")
        }
        let options = LMPTImportOptions(allowsEmptyLabelSets: allowEmptyLabels || split == .test)
        let imported: LMPTImport
        do {
            imported = try LMPTListImporter.importAnnotations(
                labelFile: URL(fileURLWithPath: labelFile), listFile: URL(fileURLWithPath: listFile),
                captionFile: captionFile.map { URL(fileURLWithPath: $0) }, options: options)
        } catch {
            throw CommandFailure("cannot import \(listFile):\n\(error)")
        }
        do {
            try DatasetManifestWriter.write(imported.annotations, to: URL(fileURLWithPath: out),
                                            copyingImagesFrom: images.map { URL(fileURLWithPath: $0) })
        } catch {
            throw CommandFailure("cannot write \(out): \(error)")
        }
        if json {
            print(try encodeJSON(imported.report))
        } else {
            let groups = ClassGroupSizes(ClassGroupBounds.default.groups(of: imported.annotations.classCounts))
            print("\(imported.report.imageCount) images, \(imported.report.classCount) classes (head \(groups.head), medium \(groups.medium), tail \(groups.tail) by these counts) → \(out)")
        }
    }
}
