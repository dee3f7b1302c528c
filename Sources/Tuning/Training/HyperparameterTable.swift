import Foundation

/// The one list of the hyper-parameters a user may set: name, kind, range, help, which methods
/// use it, and how it reads and writes `TuningHyperparameters`. The HTTP parser, `tagtune tune`,
/// the OpenAPI document and the web page (through that document) all read it; defaults come from
/// `TuningHyperparameters.defaults(for:)`, so they are written once too.
public struct Hyperparameter: Sendable {
    public enum Kind: Sendable, Equatable {
        case integer, number, boolean
        case text(maxLength: Int)
        case choice([String])
    }

    /// A value as a request or the command line gives it.
    public enum Value: Sendable, Equatable {
        case integer(Int), number(Double), boolean(Bool), text(String)

        /// The Double a Float prints as (4e-3, not 0.004000000189989805).
        static func double(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }
    }

    /// A numeric range; an absent end is open to infinity.
    public struct Bounds: Sendable, Equatable {
        public var lower: Double? = nil, lowerInclusive = true
        public var upper: Double? = nil, upperInclusive = true

        public func contains(_ x: Double) -> Bool {
            guard x.isFinite else { return false }
            if let lower, lowerInclusive ? x < lower : x <= lower { return false }
            if let upper, upperInclusive ? x > upper : x >= upper { return false }
            return true
        }

        /// "in 1…1000" for integers, "in (0, 10]" for numbers, "not negative" for [0, ∞).
        func describe(integer: Bool) -> String {
            switch (lower, upper) {
            case (0?, nil) where lowerInclusive: return "not negative"
            case (let l?, nil): return lowerInclusive ? "at least \(Self.text(l))" : "above \(Self.text(l))"
            case (nil, let u?): return upperInclusive ? "at most \(Self.text(u))" : "below \(Self.text(u))"
            case (let l?, let u?) where integer: return "in \(Self.text(l))…\(Self.text(u))"
            case (let l?, let u?):
                return "in \(lowerInclusive ? "[" : "(")\(Self.text(l)), \(Self.text(u))\(upperInclusive ? "]" : ")")"
            case (nil, nil): return "finite"
            }
        }

        static func text(_ x: Double) -> String {
            if x >= 1e4, x == x.rounded(), let exponent = Int(exactly: log10(x)) { return "1e\(exponent)" }
            return x == x.rounded() ? String(Int(x)) : String(x)
        }
    }

    /// The key in requests and records (`batch_size`).
    public let name: String
    /// A short label for forms.
    public let title: String
    /// One sentence: what it does.
    public let help: String
    public let kind: Kind
    public let bounds: Bounds?
    /// The methods whose training reads it.
    public let methods: [TuningMethod]
    /// The `tagtune tune` option (`--lr`).
    public let option: String
    /// An older spelling kept for requests, not shown in forms (`class_specific`).
    public let legacy: Bool
    let read: @Sendable (TuningHyperparameters) -> Value?
    let write: @Sendable (inout TuningHyperparameters, Value) -> Void

    /// `option` defaults to the name with dashes (`batch_size` → `--batch-size`).
    init(name: String, title: String, help: String, kind: Kind, bounds: Bounds? = nil,
         methods: [TuningMethod] = TuningMethod.allCases, option: String? = nil, legacy: Bool = false,
         read: @escaping @Sendable (TuningHyperparameters) -> Value?,
         write: @escaping @Sendable (inout TuningHyperparameters, Value) -> Void) {
        self.name = name
        self.title = title
        self.help = help
        self.kind = kind
        self.bounds = bounds
        self.methods = methods
        self.option = option ?? name.replacingOccurrences(of: "_", with: "-")
        self.legacy = legacy
        self.read = read
        self.write = write
    }

    /// The method's default, nil when the method decides at run time (`zero_shot_weight` under auto).
    public func defaultValue(for method: TuningMethod) -> Value? { read(.defaults(for: method)) }
    /// The value `h` holds.
    public func value(in h: TuningHyperparameters) -> Value? { read(h) }
}

/// What is wrong with a given hyper-parameter; the message starts with neither name nor "auto".
public struct HyperparameterError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable { case unknown, wrongType, notAChoice, outOfRange, conflict }
    public let name: String
    public let problem: Problem
    /// E.g. "must be an integer", "must be in 1…1000, got 0", "must be one of sgd, adamw".
    public let message: String
    public var description: String { "\(name): \(message)" }
}

extension Hyperparameter {
    /// What a value of this kind is, for messages ("an integer", "one of sgd, adamw").
    public var expected: String {
        switch kind {
        case .integer: return "an integer"
        case .number: return "a number"
        case .boolean: return "true or false"
        case .text(let limit): return "a string of 1 to \(limit) characters"
        case .choice(let options): return "one of \(options.joined(separator: ", "))"
        }
    }

    /// `value` in this field's kind (an integral number is an integer), or a `wrongType` error
    /// (`notAChoice` for a string that is not one of the choices).
    public func accept(_ value: Value) throws -> Value {
        let wrong = HyperparameterError(name: name, problem: .wrongType, message: "must be \(expected)")
        switch (kind, value) {
        case (.integer, .integer): return value
        case (.integer, .number(let x)):
            guard let i = Int(exactly: x) else { throw wrong }
            return .integer(i)
        case (.number, .integer(let i)): return .number(Double(i))
        case (.number, .number(let x)):
            guard x.isFinite else { throw wrong }
            return value
        case (.boolean, .boolean): return value
        case (.text(let limit), .text(let s)):
            guard (1...limit).contains(s.count) else { throw wrong }
            return value
        case (.choice(let options), .text(let s)):
            guard options.contains(s) else { throw HyperparameterError(name: name, problem: .notAChoice, message: "must be \(expected)") }
            return value
        default: throw wrong
        }
    }

    /// Why the value `h` holds is outside this field's range, if it is.
    func rangeProblem(in h: TuningHyperparameters) -> HyperparameterError? {
        guard let bounds else { return nil }
        let (x, shown): (Double, String)
        switch read(h) {
        case .integer(let i)?: (x, shown) = (Double(i), String(i))
        case .number(let d)?: (x, shown) = (d, String(Float(d)))
        default: return nil
        }
        guard !bounds.contains(x) else { return nil }
        return HyperparameterError(name: name, problem: .outOfRange,
                                   message: "must be \(bounds.describe(integer: kind == .integer)), got \(shown)")
    }
}

extension TuningHyperparameters {
    /// Every hyper-parameter a user may set, in the order forms show them.
    public static let table: [Hyperparameter] = {
        let all = TuningMethod.allCases
        let withEmbeddingLoss: [TuningMethod] = [.auto, .lmpt]   // CoOp trains L_cls alone (λ = 1)
        func closed(_ l: Double, _ u: Double) -> Hyperparameter.Bounds { .init(lower: l, upper: u) }
        func integer(_ name: String, _ title: String, _ help: String, _ bounds: Hyperparameter.Bounds, option: String? = nil,
                     methods: [TuningMethod] = all, _ key: WritableKeyPath<TuningHyperparameters, Int> & Sendable) -> Hyperparameter {
            Hyperparameter(name: name, title: title, help: help, kind: .integer, bounds: bounds, methods: methods, option: option,
                           read: { .integer($0[keyPath: key]) },
                           write: { h, v in if case .integer(let i) = v { h[keyPath: key] = i } })
        }
        func number(_ name: String, _ title: String, _ help: String, _ bounds: Hyperparameter.Bounds, option: String? = nil,
                    methods: [TuningMethod] = all, _ key: WritableKeyPath<TuningHyperparameters, Float> & Sendable) -> Hyperparameter {
            Hyperparameter(name: name, title: title, help: help, kind: .number, bounds: bounds, methods: methods, option: option,
                           read: { .number(Hyperparameter.Value.double($0[keyPath: key])) },
                           write: { h, v in if case .number(let x) = v { h[keyPath: key] = Float(x) } })
        }
        func choice<E: RawRepresentable & CaseIterable & Sendable>(
            _ name: String, _ title: String, _ help: String, methods: [TuningMethod] = all,
            _ key: WritableKeyPath<TuningHyperparameters, E> & Sendable
        ) -> Hyperparameter where E.RawValue == String {
            Hyperparameter(name: name, title: title, help: help, kind: .choice(E.allCases.map(\.rawValue)), methods: methods,
                           read: { .text($0[keyPath: key].rawValue) },
                           write: { h, v in if case .text(let s) = v, let e = E(rawValue: s) { h[keyPath: key] = e } })
        }
        return [
            integer("epochs", "Epochs", "Passes over the training images.", closed(1, 1000), \.epochs),
            integer("batch_size", "Batch size", "Images per optimisation step.", closed(1, 4096), \.batchSize),
            number("learning_rate", "Learning rate", "The optimiser's step size.", .init(lower: 0, lowerInclusive: false, upper: 10, upperInclusive: false),
                   option: "lr", \.learningRate),
            choice("optimizer", "Optimiser", "sgd or adamw.", \.optimizer),
            number("momentum", "Momentum", "SGD's momentum.", .init(lower: 0, upper: 1, upperInclusive: false), \.momentum),
            number("weight_decay", "Weight decay", "L2 weight decay of the context vectors.", .init(lower: 0, upper: 1, upperInclusive: false), \.weightDecay),
            choice("schedule", "Learning-rate schedule", "plateau (divide by 10 when the score stalls), cosine or constant.", \.schedule),
            integer("patience", "Plateau patience", "Epochs without a better score before the plateau schedule lowers the rate.", .init(lower: 0), \.patience),
            integer("early_stop_patience", "Early stop", "Stop after this many epochs without a better selection score (0: never).", .init(lower: 0),
                    option: "early-stop", \.earlyStopPatience),
            integer("n_ctx", "Context vectors (M)", "Context vectors per prompt (M).", closed(1, 64), \.contextLength),
            Hyperparameter(name: "context", title: "Prompts",
                           help: "generic: one shared context (CoOp); class_specific: one per class (LMPT); hybrid: a shared context plus a per-class residual that starts at zero.",
                           kind: .choice(ContextKind.allCases.map(\.rawValue)),
                           read: { $0.context.map { .text($0.rawValue) } },
                           write: { h, v in if case .text(let s) = v { h.context = ContextKind(rawValue: s) } }),
            Hyperparameter(name: "class_specific", title: "One context per class",
                           help: "true: class_specific contexts, false: generic (an older spelling of context).",
                           kind: .boolean, legacy: true,
                           read: { $0.context.map { .boolean($0 != .generic) } },
                           write: { h, v in if case .boolean(let b) = v { h.context = b ? .classSpecific : .generic } }),
            choice("class_position", "Class-name position", "Where the class name sits in the prompt: end, middle or front.", \.classPosition),
            Hyperparameter(name: "ctx_init", title: "Context from words",
                           help: "Initialise the context from these words' embeddings (M = their token count).",
                           kind: .text(maxLength: 200),
                           read: { $0.contextInit.map { .text($0) } },
                           write: { h, v in if case .text(let s) = v { h.contextInit = s } }),
            number("lambda", "λ", "λ in λ·L_cls + (1 − λ)·β·L_cse: the classification loss's share.", closed(0, 1), methods: withEmbeddingLoss, \.lambda),
            choice("loss", "Classification loss", "L_cls: bce, dbl (distribution-balanced), focal or asl.", \.classificationLoss),
            number("dbl_mu", "DBL μ", "DBL's μ (0.3 for VOC-LT, 0.2 for COCO-LT).", .init(lower: 0, lowerInclusive: false, upper: 10, upperInclusive: false), \.dblCentre),
            number("dbl_lambda_neg", "DBL λ_neg", "DBL's λ_neg (5 for VOC-LT, 2 for COCO-LT).", .init(lower: 0, lowerInclusive: false, upper: 100), \.dblNegativeScale),
            choice("cse", "Embedding-loss form", "feature (TagTune's) or token (the official code's).", methods: withEmbeddingLoss, \.embeddingLoss),
            number("cse_weight", "Caption-loss weight β", "β, the embedding loss's weight on top of (1 − λ).", closed(0, 1e6), methods: withEmbeddingLoss, \.cseWeight),
            choice("cse_reduction", "Embedding-loss reduction",
                   "class_sum: class weights with mean 1 summed over classes; official: the official code's mean over images × classes (C² smaller).",
                   methods: withEmbeddingLoss, \.cseReduction),
            number("cse_margin", "Embedding-loss margin", "The embedding loss's margin m.", closed(0, 2), methods: withEmbeddingLoss, \.cseMargin),
            number("prior_weight", "Pull towards the hand-written prompt κ", "κ, the pull of each class feature towards its hand-written prompt's (KgCoOp); 0: off.",
                   closed(0, 1e4), \.priorWeight),
            Hyperparameter(name: "zero_shot_weight", title: "Blend with the hand-written prompt α",
                           help: "α of the served class features normalise((1 − α)·t̂ + α·ẑ), their blend with the hand-written prompt's; auto chooses it on held-out scores from 0, 0.25, 0.5, 0.75 and 1; lmpt and coop serve 0.",
                           kind: .number, bounds: closed(0, 1),
                           read: { $0.zeroShotWeight.map { .number(Hyperparameter.Value.double($0)) } },
                           write: { h, v in if case .number(let x) = v { h.zeroShotWeight = Float(x) } }),
            integer("folds", "Folds", "k of the stratified k-fold that scores settings and epochs when no validation dataset is given.", closed(2, 10), \.folds),
            number("budget_minutes", "Search budget (minutes)", "auto: the search's time budget (the final training comes on top).",
                   .init(lower: 0, lowerInclusive: false, upper: 1440), methods: [.auto], \.budgetMinutes),
        ]
    }()

    /// The table's entry called `name`.
    public static func hyperparameter(_ name: String) -> Hyperparameter? { table.first { $0.name == name } }

    /// The method's defaults with `given` applied and checked: each name must be in the table and
    /// each value of its kind and in its range. For `auto`, `fixed` records what was given (the
    /// search leaves those alone).
    public static func resolving(_ given: [(name: String, value: Hyperparameter.Value)], method: TuningMethod,
                                 seed: UInt64) throws -> TuningHyperparameters {
        var h = defaults(for: method)
        h.seed = seed
        let names = given.map(\.name)
        if names.contains("class_specific") && names.contains("context") {
            throw HyperparameterError(name: "class_specific", problem: .conflict, message: "give context or class_specific, not both")
        }
        for (name, value) in given {
            guard let field = hyperparameter(name) else {
                throw HyperparameterError(name: name, problem: .unknown,
                                          message: "unknown hyper-parameter; known: \(table.map(\.name).sorted().joined(separator: ", "))")
            }
            field.write(&h, try field.accept(value))
        }
        if method == .auto { h.fixed = names.map { $0 == "class_specific" ? "context" : $0 } }
        if let problem = h.rangeProblem { throw problem }
        return h
    }
}
