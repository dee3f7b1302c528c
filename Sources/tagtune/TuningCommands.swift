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
extension EmbeddingLossReduction: ExpressibleByArgument {}
extension ContextKind: ExpressibleByArgument {}

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

/// `tagtune tune`: prompt tuning of a dataset (`auto`, LMPT or CoOp), written as a prompt set.
struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune class prompts on a dataset (manifest.jsonl + classes.txt, folder or zip) and write a prompt set.",
        discussion: """
            The default method, auto, searches context kind, learning rate, embedding-loss weight, loss and \
            prior weight, scoring each setting by stratified k-fold on the training images (or on --val-dataset), \
            within --budget-minutes. Settings you give are not searched. lmpt uses the paper's settings and coop \
            CoOp's; any of their settings can be changed.
            """)

    @OptionGroup var options: ModelOptions
    @Option(help: "Training dataset (folder or zip).") var dataset: String
    @Option(help: "Output folder of the prompt set (written atomically).") var out: String
    @Option(help: "Validation dataset; default: stratified k-fold on the training images.") var valDataset: String?
    @Option(help: "auto (search), lmpt (the paper's settings) or coop (one shared context, BCE).") var method: TuningMethod = .auto
    @Option(help: .hyperparameter("epochs")) var epochs: Int?
    @Option(help: .hyperparameter("batch_size")) var batchSize: Int?
    @Option(help: .hyperparameter("optimizer")) var optimizer: OptimizerKind?
    @Option(help: .hyperparameter("learning_rate")) var lr: Float?
    @Option(help: .hyperparameter("momentum")) var momentum: Float?
    @Option(help: .hyperparameter("weight_decay")) var weightDecay: Float?
    @Option(help: .hyperparameter("n_ctx")) var nCtx: Int?
    @Option(help: .hyperparameter("context")) var context: ContextKind?
    @Option(help: .hyperparameter("ctx_init")) var ctxInit: String?
    @Option(help: .hyperparameter("class_position")) var classPosition: ClassTokenPosition?
    @Option(help: .hyperparameter("lambda")) var lambda: Float?
    @Option(help: .hyperparameter("loss")) var loss: ClassificationLossKind?
    @Option(help: .hyperparameter("schedule")) var schedule: LearningRateScheduleKind?
    @Option(help: .hyperparameter("patience")) var patience: Int?
    @Option(help: .hyperparameter("early_stop_patience")) var earlyStop: Int?
    @Option(help: .hyperparameter("cse")) var cse: EmbeddingLossForm?
    @Option(help: .hyperparameter("cse_weight")) var cseWeight: Float?
    @Option(help: .hyperparameter("cse_reduction")) var cseReduction: EmbeddingLossReduction?
    @Option(help: .hyperparameter("cse_margin")) var cseMargin: Float?
    @Option(help: .hyperparameter("prior_weight")) var priorWeight: Float?
    @Option(help: .hyperparameter("zero_shot_weight")) var zeroShotWeight: Float?
    @Option(help: .hyperparameter("dbl_mu")) var dblMu: Float?
    @Option(help: .hyperparameter("dbl_lambda_neg")) var dblLambdaNeg: Float?
    @Option(help: .hyperparameter("folds")) var folds: Int?
    @Option(help: .hyperparameter("budget_minutes")) var budgetMinutes: Float?
    @Option(help: "Random seed (context initialisation, shuffling, folds).") var seed: UInt64 = 0
    @Option(help: "Feature cache folder (default: data/features).") var cache: String = "data/features"
    @Flag(help: "Replace the output folder if it exists.") var replace = false
    @Flag(help: "Print a JSON summary at the end.") var json = false

    /// The method's defaults with the options given, through the hyper-parameter table (the same
    /// kinds and ranges as a job request's); `fixed` lists them for `auto`.
    func hyperparameters() throws -> TuningHyperparameters {
        var given: [(name: String, value: Hyperparameter.Value)] = []
        func add(_ name: String, _ value: Hyperparameter.Value?) { if let value { given.append((name, value)) } }
        add("epochs", epochs.map { .integer($0) })
        add("batch_size", batchSize.map { .integer($0) })
        add("optimizer", optimizer.map { .text($0.rawValue) })
        add("learning_rate", lr.map { .number(Double($0)) })
        add("momentum", momentum.map { .number(Double($0)) })
        add("weight_decay", weightDecay.map { .number(Double($0)) })
        add("n_ctx", nCtx.map { .integer($0) })
        add("context", context.map { .text($0.rawValue) })
        add("ctx_init", ctxInit.map { .text($0) })
        add("class_position", classPosition.map { .text($0.rawValue) })
        add("lambda", lambda.map { .number(Double($0)) })
        add("loss", loss.map { .text($0.rawValue) })
        add("schedule", schedule.map { .text($0.rawValue) })
        add("patience", patience.map { .integer($0) })
        add("early_stop_patience", earlyStop.map { .integer($0) })
        add("cse", cse.map { .text($0.rawValue) })
        add("cse_weight", cseWeight.map { .number(Double($0)) })
        add("cse_reduction", cseReduction.map { .text($0.rawValue) })
        add("cse_margin", cseMargin.map { .number(Double($0)) })
        add("prior_weight", priorWeight.map { .number(Double($0)) })
        add("zero_shot_weight", zeroShotWeight.map { .number(Double($0)) })
        add("dbl_mu", dblMu.map { .number(Double($0)) })
        add("dbl_lambda_neg", dblLambdaNeg.map { .number(Double($0)) })
        add("folds", folds.map { .integer($0) })
        add("budget_minutes", budgetMinutes.map { .number(Double($0)) })
        do { return try TuningHyperparameters.resolving(given, method: method, seed: seed) } catch let error as HyperparameterError {
            let option = TuningHyperparameters.hyperparameter(error.name).map { "--\($0.option)" } ?? error.name
            throw ValidationError("\(option): \(error.message)")
        }
    }

    func run() throws {
        let h = try hyperparameters()
        let started = ContinuousClock.now
        let model = try options.load()
        let train = try loadDataset(dataset)
        let split: ValidationSplit = try valDataset.map { .given(try loadDataset($0)) } ?? .folds
        let outURL = URL(fileURLWithPath: out)
        let run = TuningRun(model: model, training: train, validation: split, hyperparameters: h,
                            featureCacheRoot: URL(fileURLWithPath: cache), encoderName: URL(fileURLWithPath: options.model).lastPathComponent,
                            promptSetID: outURL.lastPathComponent)
        var progress = ProgressLine()
        var finalEpochs = 0
        let events: (TuningRunEvent) -> Void = { event in
            switch event {
            case .stage(let name, let done, let total):
                progress.show("\(name) \(ProgressLine.bar(done, total)) \(done)/\(total)")
            case .encoded(let stage, let encoded, let total) where encoded < total:
                progress.show("\(stage): \(total - encoded) of \(total) from the feature cache", force: true)
            case .encoded:
                break
            case .selection(let candidate, let epoch, let epochs, let score, _):
                progress.show(String(format: "setting %d: epoch %d/%d %@ score %.2f (mAP %.2f)", candidate + 1, epoch, epochs,
                                     ProgressLine.bar(epoch, epochs), score.value, score.map))
            case .candidate(let index, let c):
                progress.show(String(format: "setting %d (%@): score %.2f at epoch %d, head %@ medium %@ tail %@, %.1f s", index + 1,
                                     c.change, c.score.value, c.bestEpoch, c.score.headMap.map { String(format: "%.2f", $0) } ?? "-",
                                     c.score.mediumMap.map { String(format: "%.2f", $0) } ?? "-",
                                     c.score.tailMap.map { String(format: "%.2f", $0) } ?? "-", c.seconds), force: true)
            case .selected(let epochs, let record):
                progress.show("chosen: \(record.candidates[record.chosen].change), \(epochs) epochs on all training images", force: true)
            case .training(let e):
                finalEpochs = max(finalEpochs, e.epoch)
                let map = e.validationMAP.map { String(format: " held-out mAP %.2f", $0) } ?? ""
                progress.show(String(format: "final training: epoch %d, loss %.4f lr %.2g%@", e.epoch, e.loss, e.learningRate, map),
                              force: false)
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
                let hyperparameters: TuningHyperparameters, metrics: EvaluationReport?, zero_shot_metrics: EvaluationReport?
                let selection: SelectionRecord?
            }
            print(try encodeJSON(Summary(prompt_set: outURL.path, seconds: seconds, train_images: prepared.training.items.count,
                                         validation_images: prepared.validation.items.count,
                                         hyperparameters: promptSet.manifest.hyperparameters, metrics: m,
                                         zero_shot_metrics: promptSet.manifest.zeroShotMetrics, selection: promptSet.manifest.selection)))
        } else {
            print("prompt set written to \(outURL.path) in \(ProgressLine.duration(seconds))")
            if let selection = promptSet.manifest.selection { print("chosen: \(selection.reason)") }
            if let m {
                let held = promptSet.manifest.selection?.data == "folds" ? "out-of-fold" : "validation"
                print(String(format: "%@: mAP %.2f (head %@, medium %@, tail %@), CF1 %.2f, OF1 %.2f", held, m.map,
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
                classNames: data.classes, trainingCounts: set.manifest.classCounts, thresholds: set.manifest.thresholds,
                softmaxLogits: set.logits(imageFeatures: features, logitScale: model.logitScale))
        } else {
            let counts = try trainDataset.map { try loadDataset($0, decodesImages: false).classCounts } ?? data.classCounts
            report = try EvaluationReport.zeroShot(
                model: model, classNames: data.classes, imageFeatures: features, labels: labels, trainingCounts: counts)
        }
        if json {
            print(try encodeJSON(report))
        } else {
            func cell(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "-" }
            print(String(format: "mAP %.2f  head %@  medium %@  tail %@  CF1 %.2f  OF1 %.2f  (%d images)", report.map,
                         cell(report.headMap), cell(report.mediumMap), cell(report.tailMap), report.cf1, report.of1, report.imageCount))
            if let s = report.softmax {
                print(String(format: "softmax-over-classes mAP %.2f  head %@  medium %@  tail %@  (the official LMPT code's metric)",
                             s.map, cell(s.headMap), cell(s.mediumMap), cell(s.tailMap)))
            }
            for row in report.perClass {
                let name = row.className.padding(toLength: max(24, row.className.count), withPad: " ", startingAt: 0)
                let group = row.group.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
                print("  \(name) \(group) n=\(row.trainingCount)\t AP " + (row.ap.map { String(format: "%.2f", $0) } ?? "-"))
            }
        }
    }
}

extension ArgumentHelp {
    /// A tuning option's help, from the hyper-parameter table.
    static func hyperparameter(_ name: String) -> ArgumentHelp {
        ArgumentHelp(TuningHyperparameters.hyperparameter(name)?.help ?? name)
    }
}
