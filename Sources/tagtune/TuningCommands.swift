import ArgumentParser
import CLIP
import Compute
import Foundation
import Imaging
import Tuning

extension TuningMethod: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension ClassTokenPosition: ExpressibleByArgument {}
extension ClassificationLossKind: ExpressibleByArgument {}
extension LearningRateScheduleKind: ExpressibleByArgument {}
extension EmbeddingLossForm: ExpressibleByArgument {}

/// Loads a dataset folder or zip, turning validation problems into a readable failure.
func loadDataset(_ path: String, decodesImages: Bool = true) throws -> Dataset {
    do {
        return try DatasetLoader.load(from: URL(fileURLWithPath: path), options: DatasetLoadOptions(decodesImages: decodesImages))
    } catch let error as DatasetValidationError {
        throw CommandFailure("dataset \(path) is invalid:\n\(error)")
    } catch {
        throw CommandFailure("dataset \(path): \(error)")
    }
}

func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `tagtune tune`: LMPT (or CoOp) prompt tuning of a dataset, written as a prompt set.
struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune class prompts on a dataset (manifest.jsonl + classes.txt, folder or zip) and write a prompt set.")

    @OptionGroup var options: ModelOptions
    @Option(help: "Training dataset (folder or zip).") var dataset: String
    @Option(help: "Output folder of the prompt set (written atomically).") var out: String
    @Option(help: "Validation dataset; default: 10% of the training images held out, stratified.") var valDataset: String?
    @Option(help: "lmpt (class-specific contexts, DBL + embedding loss) or coop (one shared context).") var method: TuningMethod = .lmpt
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Images per optimisation step.") var batchSize: Int?
    @Option(help: "sgd or adamw.") var optimizer: OptimizerKind?
    @Option(help: "Learning rate.") var lr: Float?
    @Option(help: "Context vectors per prompt (M).") var nCtx: Int?
    @Option(help: "Initialise the context from these words (M = their token count).") var ctxInit: String?
    @Option(help: "Class-name position: end, middle or front.") var classPosition: ClassTokenPosition?
    @Option(help: "λ in λ·L_cls + (1 − λ)·L_cse.") var lambda: Float?
    @Option(help: "Classification loss: dbl, bce, focal or asl.") var loss: ClassificationLossKind?
    @Option(help: "Learning-rate schedule: plateau, cosine or constant.") var schedule: LearningRateScheduleKind?
    @Option(help: "Embedding loss form: feature (default) or token (the official code's).") var cse: EmbeddingLossForm?
    @Option(help: "DBL's μ (0.3 for VOC-LT, 0.2 for COCO-LT).") var dblMu: Float?
    @Option(help: "DBL's λ_neg (5 for VOC-LT, 2 for COCO-LT).") var dblLambdaNeg: Float?
    @Option(help: "Random seed (context initialisation, shuffling, hold-out split).") var seed: UInt64 = 0
    @Option(help: "Feature cache folder (default: data/features).") var cache: String = "data/features"
    @Flag(help: "Replace the output folder if it exists.") var replace = false
    @Flag(help: "Print a JSON summary at the end.") var json = false

    func run() throws {
        var h = TuningHyperparameters()
        h.method = method
        if method == .coop { h.learningRate = 2e-3 }
        if let epochs { h.epochs = epochs }
        if let batchSize { h.batchSize = batchSize }
        if let optimizer { h.optimizer = optimizer }
        if let lr { h.learningRate = lr }
        if let nCtx { h.contextLength = nCtx }
        if let ctxInit { h.contextInit = ctxInit }
        if let classPosition { h.classPosition = classPosition }
        if let lambda { h.lambda = lambda }
        if let loss { h.classificationLoss = loss }
        if let schedule { h.schedule = schedule }
        if let cse { h.embeddingLoss = cse }
        if let dblMu { h.dblCentre = dblMu }
        if let dblLambdaNeg { h.dblNegativeScale = dblLambdaNeg }
        h.seed = seed
        do { try h.validate() } catch { throw ValidationError("\(error)") }

        let started = ContinuousClock.now
        let model = try options.load()
        let train = try loadDataset(dataset)
        let split: ValidationSplit = try valDataset.map { .given(try loadDataset($0)) } ?? .heldOut(seed: seed)
        let outURL = URL(fileURLWithPath: out)
        let run = TuningRun(model: model, training: train, validation: split, hyperparameters: h,
                            featureCacheRoot: URL(fileURLWithPath: cache), encoderName: URL(fileURLWithPath: options.model).lastPathComponent,
                            promptSetID: outURL.lastPathComponent)
        var progress = ProgressLine()
        let events: (TuningRunEvent) -> Void = { event in
            switch event {
            case .stage(let name, let done, let total):
                progress.show("\(name) \(ProgressLine.bar(done, total)) \(done)/\(total)")
            case .training(let e):
                let stepsDone = (e.epoch - 1) * e.stepsPerEpoch + e.step, total = h.epochs * e.stepsPerEpoch
                let eta = e.elapsedSeconds / Double(max(stepsDone, 1)) * Double(total - stepsDone)
                let map = e.validationMAP.map { String(format: " val mAP %.2f", $0) } ?? ""
                progress.show(String(format: "epoch %d/%d %@ loss %.4f lr %.2g%@ ETA %@", e.epoch, h.epochs,
                                     ProgressLine.bar(stepsDone, total), e.loss, e.learningRate, map, ProgressLine.duration(eta)),
                              force: e.kind == .epoch)
            }
        }
        let prepared: (data: TrainingData, training: Dataset, validation: Dataset)
        do { prepared = try run.prepare(events: events) } catch let error as DatasetValidationError {
            throw CommandFailure("validation dataset: \(error)")
        }
        let promptSet = try run.train(prepared.data, events: events)
        progress.finish()
        try promptSet.write(to: outURL, replace: replace)
        let seconds = (ContinuousClock.now - started).seconds
        let m = promptSet.manifest.metrics
        if json {
            struct Summary: Encodable {
                let prompt_set: String, seconds: Double, train_images: Int, validation_images: Int
                let hyperparameters: TuningHyperparameters, metrics: EvaluationReport?
            }
            print(try encodeJSON(Summary(prompt_set: outURL.path, seconds: seconds, train_images: prepared.training.items.count,
                                         validation_images: prepared.validation.items.count, hyperparameters: h, metrics: m)))
        } else {
            print("prompt set written to \(outURL.path) in \(ProgressLine.duration(seconds))")
            if let m {
                print(String(format: "validation: mAP %.2f (head %@, medium %@, tail %@), CF1 %.2f, OF1 %.2f", m.map,
                             m.headMap.map { String(format: "%.2f", $0) } ?? "-", m.mediumMap.map { String(format: "%.2f", $0) } ?? "-",
                             m.tailMap.map { String(format: "%.2f", $0) } ?? "-", m.cf1, m.of1))
            }
        }
    }
}

/// `tagtune eval`: mAP, head/medium/tail mAP and F1 of a prompt set (or zero-shot prompts) on a dataset.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a prompt set, or zero-shot prompts \"a photo of a {class}.\", on a labelled dataset.",
        discussion: """
            Groups (head ≥ 100, medium 20–99, tail < 20) use the prompt set's training counts; with \
            --zero-shot, those of --train-dataset when given, else the evaluated dataset's. Zero-shot has \
            no validation split, so its thresholds are calibrated on the evaluated data itself (oracle \
            thresholds: the F1 figures are optimistic; mAP is unaffected).
            """)

    @OptionGroup var options: ModelOptions
    @Option(help: "Prompt set folder.") var prompts: String?
    @Flag(help: "Use the hand-written prompt \"a photo of a {class}.\" instead of a prompt set.") var zeroShot = false
    @Option(help: "Dataset to evaluate (folder or zip).") var dataset: String
    @Option(help: "Training dataset whose class counts define the groups (zero-shot).") var trainDataset: String?
    @Option(help: "Feature cache folder.") var cache: String = "data/features"
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard (prompts != nil) != zeroShot else { throw ValidationError("give exactly one of --prompts DIR and --zero-shot") }
    }

    func run() throws {
        let model = try options.load()
        let data = try loadDataset(dataset)
        let cacheStore = try FeatureCache(root: URL(fileURLWithPath: cache), model: model)
        let features = try ImageFeatureExtractor(model: model, cache: cacheStore).features(
            count: data.items.count, loadBytes: { try data.imageBytes(at: $0) }, decode: { try ImageDecoder.decode($0) }).features
        let c = data.classes.count
        var labels = [Bool](repeating: false, count: data.items.count * c)
        for (i, item) in data.items.enumerated() { for l in item.labels { labels[i * c + l] = true } }

        let report: EvaluationReport
        if let prompts {
            let set: PromptSet
            do { set = try PromptSet.load(from: URL(fileURLWithPath: prompts), for: model) } catch {
                throw CommandFailure("\(error)")
            }
            guard set.manifest.classes == data.classes else {
                throw CommandFailure("the prompt set's classes differ from the dataset's (same names in the same order are needed)")
            }
            let scores = set.scores(imageFeatures: features, logitScale: model.logitScale)
            report = try EvaluationReport(
                test: try LabeledScores(imageCount: data.items.count, classCount: c, scores: scores, labels: labels),
                classNames: data.classes, trainingCounts: set.manifest.classCounts, thresholds: set.manifest.thresholds)
        } else {
            let counts = try trainDataset.map { try loadDataset($0, decodesImages: false).classCounts } ?? data.classCounts
            report = try EvaluationReport.zeroShot(
                model: model, classNames: data.classes, imageFeatures: features, labels: labels, trainingCounts: counts)
        }
        if json {
            print(try encodeJSON(report))
        } else {
            print(String(format: "mAP %.2f  head %@  medium %@  tail %@  CF1 %.2f  OF1 %.2f  (%d images)", report.map,
                         report.headMap.map { String(format: "%.2f", $0) } ?? "-", report.mediumMap.map { String(format: "%.2f", $0) } ?? "-",
                         report.tailMap.map { String(format: "%.2f", $0) } ?? "-", report.cf1, report.of1, report.imageCount))
            for row in report.perClass {
                let name = row.className.padding(toLength: max(24, row.className.count), withPad: " ", startingAt: 0)
                let group = row.group.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
                print("  \(name) \(group) n=\(row.trainingCount)\t AP " + (row.ap.map { String(format: "%.2f", $0) } ?? "-"))
            }
        }
    }
}
