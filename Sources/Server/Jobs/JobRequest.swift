import Foundation
import Tuning

/// The body of `POST /v1/tuning/jobs`, checked field by field:
/// `{model, dataset, validation_dataset?, method?, hyperparameters?, seed?, suffix?}`.
/// Read through `JSONRequestBody` like every JSON body (malformed JSON is a 400); unknown fields,
/// wrong types and bad values are 422s naming the field, checked here one by one so that each
/// says what the field takes (the hyper-parameters through Tuning's table).
struct JobRequest: Sendable, Decodable {
    let model: String
    let dataset: String
    let validationDataset: String?
    let method: TuningMethod
    let hyperparameters: TuningHyperparameters
    let seed: UInt64
    let suffix: String?

    static let fields: Set<String> = ["model", "dataset", "validation_dataset", "method", "hyperparameters", "seed", "suffix"]
    /// Seeds stay below 2^53 so every JSON client reads them back exactly.
    static let maximumSeed: Int64 = (1 << 53) - 1

    init(from decoder: any Decoder) throws {
        let root = try JSONValue(from: decoder)
        guard case .object(let fields) = root else {
            throw APIError(.badRequest, code: "invalid_json", message: "the body must be a JSON object, not \(root.typeName)")
        }
        for key in fields.keys.sorted() where !Self.fields.contains(key) {
            throw APIError.unknownParameter(key, "unknown field '\(key)'; a job takes \(Self.fields.sorted().joined(separator: ", "))")
        }
        func text(_ key: String, required: Bool) throws -> String? {
            switch fields[key] {
            case nil, .null?:
                if required {
                    throw APIError.missingParameter(key)
                }
                return nil
            case .string(let value)?:
                guard !value.isEmpty, value.count <= 200 else {
                    throw APIError(.unprocessableContent, code: "invalid_value", message: "\(key) must be 1 to 200 characters", param: key)
                }
                return value
            case let other?:
                throw APIError(.unprocessableContent, code: "invalid_type", message: "\(key) must be a string, not \(other.typeName)", param: key)
            }
        }
        let model = try text("model", required: true)!
        guard Self.isFolderName(model) else {
            throw APIError(.unprocessableContent, code: "invalid_value",
                           message: "model must be the name of a folder in the models directory, not a path", param: "model")
        }
        self.model = model
        dataset = try text("dataset", required: true)!
        validationDataset = try text("validation_dataset", required: false)

        let methodName = try text("method", required: false) ?? TuningMethod.auto.rawValue
        guard let method = TuningMethod(rawValue: methodName) else {
            throw APIError(.unprocessableContent, code: "invalid_value",
                           message: "method must be one of \(TuningMethod.allCases.map(\.rawValue).joined(separator: ", "))", param: "method")
        }
        self.method = method

        switch fields["seed"] {
        case nil, .null?:
            seed = UInt64.random(in: 0..<(1 << 31))   // recorded in the job, so the run can be repeated
        case let value?:
            guard let number = value.integerValue, (0...Self.maximumSeed).contains(number) else {
                throw APIError(.unprocessableContent, code: "invalid_value",
                               message: "seed must be an integer in 0…\(Self.maximumSeed)", param: "seed")
            }
            seed = UInt64(number)
        }

        let suffix = try text("suffix", required: false)
        if let suffix {
            guard suffix.count <= 40, suffix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw APIError(.unprocessableContent, code: "invalid_value",
                               message: "suffix must be up to 40 letters, digits, '-' or '_'", param: "suffix")
            }
        }
        self.suffix = suffix?.lowercased()

        var given: [String: JSONValue] = [:]
        switch fields["hyperparameters"] {
        case nil, .null?: break
        case .object(let object)?: given = object
        case let other?:
            throw APIError(.unprocessableContent, code: "invalid_type",
                           message: "hyperparameters must be an object, not \(other.typeName)", param: "hyperparameters")
        }
        hyperparameters = try HyperparameterParser.parse(given, method: method, seed: seed)
    }

    /// A single folder name: no separators, not hidden, not `.` or `..`.
    static func isFolderName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\\") && !name.contains("\0")
    }
}
