import Tuning

/// Reads the `hyperparameters` object of a job request into `TuningHyperparameters`: each key is
/// a snake_case field (`epochs`, `batch_size`, `learning_rate`, `n_ctx`, `lambda`, …) given as a
/// value of its type or as "auto" (the method's default). Unknown keys, wrong types and values out
/// of range are refused with 422, `param` naming the field (`hyperparameters.epochs`).
enum HyperparameterParser {
    /// The fields a request may set, and what each takes.
    enum Kind { case integer, number, boolean, text, choice([String]) }

    static let fields: [String: Kind] = [
        "epochs": .integer, "batch_size": .integer, "n_ctx": .integer, "patience": .integer,
        "early_stop_patience": .integer, "folds": .integer,
        "learning_rate": .number, "lambda": .number, "momentum": .number, "weight_decay": .number,
        "dbl_mu": .number, "dbl_lambda_neg": .number, "cse_margin": .number, "cse_weight": .number,
        "prior_weight": .number, "budget_minutes": .number, "zero_shot_weight": .number,
        "class_specific": .boolean, "ctx_init": .text,
        "context": .choice(ContextKind.allCases.map(\.rawValue)),
        "cse_reduction": .choice(EmbeddingLossReduction.allCases.map(\.rawValue)),
        "optimizer": .choice(OptimizerKind.allCases.map(\.rawValue)),
        "schedule": .choice(LearningRateScheduleKind.allCases.map(\.rawValue)),
        "loss": .choice(ClassificationLossKind.allCases.map(\.rawValue)),
        "cse": .choice(EmbeddingLossForm.allCases.map(\.rawValue)),
        "class_position": .choice(ClassTokenPosition.allCases.map(\.rawValue)),
    ]

    /// The method's defaults with `given` applied, checked; `seed` and `method` come from the request's top level.
    static func parse(_ given: [String: JSONValue], method: TuningMethod, seed: UInt64) throws -> TuningHyperparameters {
        var h = TuningHyperparameters.defaults(for: method)
        h.seed = seed
        var fixed: [String] = []
        for key in given.keys.sorted() {
            let value = given[key]!
            let param = "hyperparameters.\(key)"
            guard let kind = fields[key] else {
                let hint = ["method", "seed"].contains(key) ? "; give \(key) at the top level of the request" : ""
                throw APIError(.unprocessableContent, code: "unknown_parameter",
                               message: "unknown hyper-parameter '\(key)'\(hint); known: \(fields.keys.sorted().joined(separator: ", "))",
                               param: param)
            }
            if value == .string("auto") { continue }
            fixed.append(key)
            func invalid(_ expected: String) -> APIError {
                APIError(.unprocessableContent, code: "invalid_type",
                         message: "\(key) must be \(expected) or \"auto\", not \(value.typeName)", param: param)
            }
            switch kind {
            case .integer:
                guard let number = value.integerValue, let integer = Int(exactly: number) else { throw invalid("an integer") }
                switch key {
                case "epochs": h.epochs = integer
                case "batch_size": h.batchSize = integer
                case "n_ctx": h.contextLength = integer
                case "patience": h.patience = integer
                case "folds": h.folds = integer
                default: h.earlyStopPatience = integer
                }
            case .number:
                guard let number = value.numberValue else { throw invalid("a number") }
                let float = Float(number)
                switch key {
                case "learning_rate": h.learningRate = float
                case "lambda": h.lambda = float
                case "momentum": h.momentum = float
                case "weight_decay": h.weightDecay = float
                case "dbl_mu": h.dblCentre = float
                case "dbl_lambda_neg": h.dblNegativeScale = float
                case "cse_weight": h.cseWeight = float
                case "prior_weight": h.priorWeight = float
                case "budget_minutes": h.budgetMinutes = float
                case "zero_shot_weight": h.zeroShotWeight = float
                default: h.cseMargin = float
                }
            case .boolean:
                guard case .bool(let flag) = value else { throw invalid("true or false") }
                h.context = flag ? .classSpecific : .generic
            case .text:
                guard case .string(let text) = value, (1...200).contains(text.count) else { throw invalid("a string of 1 to 200 characters") }
                h.contextInit = text
            case .choice(let options):
                guard case .string(let text) = value, options.contains(text) else {
                    throw APIError(.unprocessableContent, code: "invalid_value",
                                   message: "\(key) must be one of \(options.joined(separator: ", ")) or \"auto\"", param: param)
                }
                switch key {
                case "optimizer": h.optimizer = OptimizerKind(rawValue: text)!
                case "schedule": h.schedule = LearningRateScheduleKind(rawValue: text)!
                case "loss": h.classificationLoss = ClassificationLossKind(rawValue: text)!
                case "cse": h.embeddingLoss = EmbeddingLossForm(rawValue: text)!
                case "context": h.context = ContextKind(rawValue: text)!
                case "cse_reduction": h.cseReduction = EmbeddingLossReduction(rawValue: text)!
                default: h.classPosition = ClassTokenPosition(rawValue: text)!
                }
            }
        }
        if given["class_specific"] != nil && given["context"] != nil && given["context"] != .string("auto") {
            throw APIError(.unprocessableContent, code: "invalid_value",
                           message: "give context or class_specific, not both", param: "hyperparameters.class_specific")
        }
        if method == .auto { h.fixed = fixed.map { $0 == "class_specific" ? "context" : $0 } }
        try checkRanges(h)
        return h
    }

    /// `TuningHyperparameters.validate()` (its message starts with the field's name), plus the loss constants.
    static func checkRanges(_ h: TuningHyperparameters) throws {
        func outOfRange(_ field: String, _ message: String) -> APIError {
            APIError(.unprocessableContent, code: "invalid_value", message: "\(field): \(message)", param: "hyperparameters.\(field)")
        }
        if h.earlyStopPatience < 0 { throw outOfRange("early_stop_patience", "must not be negative") }
        do {
            try h.validate()
        } catch TuningError.invalidArgument(let message) {
            let field = message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "hyperparameters"
            throw APIError(.unprocessableContent, code: "invalid_value", message: message, param: "hyperparameters.\(field)")
        }
        if !(h.dblCentre > 0 && h.dblCentre < 10) { throw outOfRange("dbl_mu", "must be in (0, 10), got \(h.dblCentre)") }
        if !(h.dblNegativeScale > 0 && h.dblNegativeScale <= 100) {
            throw outOfRange("dbl_lambda_neg", "must be in (0, 100], got \(h.dblNegativeScale)")
        }
        if !(h.cseMargin >= 0 && h.cseMargin <= 2) { throw outOfRange("cse_margin", "must be in [0, 2], got \(h.cseMargin)") }
    }
}
