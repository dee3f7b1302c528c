import Tuning

/// Reads the `hyperparameters` object of a job request through the hyper-parameter table
/// (`TuningHyperparameters.table`): each key a field of the table given as a value of its kind or
/// as "auto" (the method's default). Unknown keys, wrong types and values out of range are refused
/// with 422, `param` naming the field (`hyperparameters.epochs`).
enum HyperparameterParser {
    /// The method's defaults with `given` applied, checked; `seed` and `method` come from the request's top level.
    static func parse(_ given: [String: JSONValue], method: TuningMethod, seed: UInt64) throws -> TuningHyperparameters {
        var values: [(name: String, value: Hyperparameter.Value)] = []
        for key in given.keys.sorted() {
            let value = given[key]!
            let param = "hyperparameters.\(key)"
            guard let field = TuningHyperparameters.hyperparameter(key) else {
                let hint = ["method", "seed"].contains(key) ? "; give \(key) at the top level of the request" : ""
                throw APIError.unknownParameter(param, "unknown hyper-parameter '\(key)'\(hint); known: \(TuningHyperparameters.table.map(\.name).sorted().joined(separator: ", "))")
            }
            if value == .string("auto") { continue }
            let converted: Hyperparameter.Value
            switch value {
            case .integer(let i): converted = .integer(Int(i))
            case .number(let x): converted = .number(x)
            case .bool(let b): converted = .boolean(b)
            case .string(let s): converted = .text(s)
            case .null, .array, .object:
                throw APIError(.unprocessableContent, code: "invalid_type",
                               message: "\(key) must be \(field.expected) or \"auto\", not \(value.typeName)", param: param)
            }
            values.append((key, converted))
        }
        do {
            return try TuningHyperparameters.resolving(values, method: method, seed: seed)
        } catch let error as HyperparameterError {
            let param = "hyperparameters.\(error.name)"
            switch error.problem {
            case .wrongType:
                throw APIError(.unprocessableContent, code: "invalid_type",
                               message: "\(error.name) \(error.message) or \"auto\", not \(given[error.name]?.typeName ?? "this")", param: param)
            case .unknown:
                throw APIError.unknownParameter(param, error.description)
            case .notAChoice:
                throw APIError(.unprocessableContent, code: "invalid_value", message: "\(error.name) \(error.message) or \"auto\"", param: param)
            case .outOfRange, .conflict:
                throw APIError(.unprocessableContent, code: "invalid_value", message: error.description, param: param)
            }
        }
    }
}
