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
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Images per optimisation step.") var batchSize: Int?
    @Option(help: "sgd or adamw.") var optimizer: OptimizerKind?
    @Option(help: "Learning rate.") var lr: Float?
    @Option(help: "SGD momentum.") var momentum: Float?
    @Option(help: "Weight decay.") var weightDecay: Float?
    @Option(help: "Context vectors per prompt (M).") var nCtx: Int?
    @Option(help: "Context: generic, class_specific or hybrid (shared + per-class residual from zero).") var context: ContextKind?
    @Option(help: "Initialise the context from these words (M = their token count).") var ctxInit: String?
    @Option(help: "Class-name position: end, middle or front.") var classPosition: ClassTokenPosition?
    @Option(help: "λ in λ·L_cls + (1 − λ)·β·L_cse.") var lambda: Float?
    @Option(help: "Classification loss: bce, dbl, focal or asl.") var loss: ClassificationLossKind?
    @Option(help: "Learning-rate schedule: plateau, cosine or constant.") var schedule: LearningRateScheduleKind?
    @Option(help: "Plateau schedule's patience (epochs).") var patience: Int?
    @Option(help: "Stop when the selection score has not improved for this many epochs (0: never).") var earlyStop: Int?
    @Option(help: "Embedding loss form: feature (default) or token (the official code's).") var cse: EmbeddingLossForm?
    @Option(help: "β, the embedding loss's weight.") var cseWeight: Float?
    @Option(help: "Embedding loss reduction: class_sum or official (the official code's, C² smaller).") var cseReduction: EmbeddingLossReduction?
    @Option(help: "Embedding loss margin m.") var cseMargin: Float?
    @Option(help: "κ, the pull towards the hand-written prompts' features (KgCoOp); 0: off.") var priorWeight: Float?
    @Option(help: "α of the served features' blend with the hand-written prompt's, in [0, 1] (auto: chosen on held-out scores; lmpt, coop: 0).") var zeroShotWeight: Float?
    @Option(help: "DBL's μ (0.3 for VOC-LT, 0.2 for COCO-LT).") var dblMu: Float?
    @Option(help: "DBL's λ_neg (5 for VOC-LT, 2 for COCO-LT).") var dblLambdaNeg: Float?
    @Option(help: "k of the stratified k-fold that scores settings and epochs.") var folds: Int?
    @Option(help: "auto: the search's time budget in minutes.") var budgetMinutes: Float?
    @Option(help: "Random seed (context initialisation, shuffling, folds).") var seed: UInt64 = 0
    @Option(help: "Feature cache folder (default: data/features).") var cache: String = "data/features"
    @Flag(help: "Replace the output folder if it exists.") var replace = false
    @Flag(help: "Print a JSON summary at the end.") var json = false

    /// The method's defaults with the options given; `fixed` lists them for `auto`.
    func hyperparameters() throws -> TuningHyperparameters {
        var h = TuningHyperparameters.defaults(for: method)
        var fixed: [String] = []
        func set<T>(_ value: T?, _ name: String, _ apply: (inout TuningHyperparameters, T) -> Void) {
            guard let value else { return }
            apply(&h, value)
            fixed.append(name)
        }
        set(epochs, "epochs") { $0.epochs = $1 }
        set(batchSize, "batch_size") { $0.batchSize = $1 }
        set(optimizer, "optimizer") { $0.optimizer = $1 }
        set(lr, "learning_rate") { $0.learningRate = $1 }
        set(momentum, "momentum") { $0.momentum = $1 }
        set(weightDecay, "weight_decay") { $0.weightDecay = $1 }
        set(nCtx, "n_ctx") { $0.contextLength = $1 }
        set(context, "context") { $0.context = $1 }
        set(ctxInit, "ctx_init") { $0.contextInit = $1 }
        set(classPosition, "class_position") { $0.classPosition = $1 }
        set(lambda, "lambda") { $0.lambda = $1 }
        set(loss, "loss") { $0.classificationLoss = $1 }
        set(schedule, "schedule") { $0.schedule = $1 }
        set(patience, "patience") { $0.patience = $1 }
        set(earlyStop, "early_stop_patience") { $0.earlyStopPatience = $1 }
        set(cse, "cse") { $0.embeddingLoss = $1 }
        set(cseWeight, "cse_weight") { $0.cseWeight = $1 }
        set(cseReduction, "cse_reduction") { $0.cseReduction = $1 }
        set(cseMargin, "cse_margin") { $0.cseMargin = $1 }
        set(priorWeight, "prior_weight") { $0.priorWeight = $1 }
        set(zeroShotWeight, "zero_shot_weight") { $0.zeroShotWeight = $1 }
        set(dblMu, "dbl_mu") { $0.dblCentre = $1 }
        set(dblLambdaNeg, "dbl_lambda_neg") { $0.dblNegativeScale = $1 }
        set(folds, "folds") { $0.folds = $1 }
        set(budgetMinutes, "budget_minutes") { $0.budgetMinutes = $1 }
        h.seed = seed
        if method == .auto { h.fixed = fixed }
        do { try h.validate() } catch { throw ValidationError("\(error)") }
        return h
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
