import Testing
@testable import Tuning

/// The hyper-parameter table is the one owner of names, kinds and ranges: every method's defaults
/// sit inside them, each field writes what it reads, and values outside are refused by name.
@Suite("Hyper-parameter table")
struct HyperparameterTableTests {
    static let table = TuningHyperparameters.table

    @Test func namesAreUniqueAndEveryMethodsDefaultsPassTheirOwnChecks() throws {
        #expect(Set(Self.table.map(\.name)).count == Self.table.count)
        #expect(Set(Self.table.map(\.option)).count == Self.table.count)
        for method in TuningMethod.allCases {
            let h = TuningHyperparameters.defaults(for: method)
            #expect(h.rangeProblem == nil, "\(method)")
            // Giving each default back explicitly changes nothing but `fixed`.
            let given = Self.table.filter { !$0.legacy }.compactMap { f in f.defaultValue(for: method).map { (name: f.name, value: $0) } }
            var resolved = try TuningHyperparameters.resolving(given, method: method, seed: h.seed)
            resolved.fixed = []
            #expect(resolved == h, "\(method)")
        }
    }

    @Test func eachFieldWritesWhatItReads() throws {
        for field in Self.table where !field.legacy {
            let value: Hyperparameter.Value
            switch field.kind {
            case .integer: value = .integer(Int(field.bounds?.upper ?? 7))
            case .number: value = .number(field.bounds?.upperInclusive == true ? field.bounds!.upper! : 0.5)
            case .boolean: value = .boolean(true)
            case .text: value = .text("a photo of a")
            case .choice(let options): value = .text(options.last!)
            }
            let h = try TuningHyperparameters.resolving([(field.name, value)], method: .auto, seed: 0)
            #expect(field.value(in: h) == value, "\(field.name)")
            #expect(h.fixed == [field.name])
        }
    }

    @Test func valuesOutsideTheRangeOrOfAnotherKindAreRefusedByName() {
        for field in Self.table {
            if let bounds = field.bounds {
                let outside: [Double] = [bounds.lower.map { bounds.lowerInclusive ? $0 - 1 : $0 }, bounds.upper.map { bounds.upperInclusive ? $0 + 1 : $0 }]
                    .compactMap { $0 }
                for x in outside {
                    let value: Hyperparameter.Value = field.kind == .integer ? .integer(Int(x)) : .number(x)
                    #expect(throws: HyperparameterError.self, "\(field.name) = \(x)") {
                        try TuningHyperparameters.resolving([(field.name, value)], method: .lmpt, seed: 0)
                    }
                    do { _ = try TuningHyperparameters.resolving([(field.name, value)], method: .lmpt, seed: 0) } catch let error as HyperparameterError {
                        #expect(error.name == field.name && error.problem == .outOfRange, "\(error)")
                    } catch { Issue.record("\(error)") }
                }
            }
            let wrong: Hyperparameter.Value = field.kind == .boolean || field.kind == .integer || field.kind == .number ? .text("many") : .integer(3)
            #expect(throws: HyperparameterError(name: field.name, problem: .wrongType, message: "must be \(field.expected)")) {
                try TuningHyperparameters.resolving([(field.name, wrong)], method: .auto, seed: 0)
            }
        }
        #expect(throws: HyperparameterError.self) { try TuningHyperparameters.resolving([("warmup_steps", .integer(3))], method: .auto, seed: 0) }
        #expect(throws: HyperparameterError(name: "class_specific", problem: .conflict, message: "give context or class_specific, not both")) {
            try TuningHyperparameters.resolving([("context", .text("generic")), ("class_specific", .boolean(true))], method: .auto, seed: 0)
        }
        // Before the table, only a job request checked these; `tagtune tune --dbl-mu 50` was accepted.
        #expect(throws: HyperparameterError.self) { try TuningHyperparameters.resolving([("dbl_mu", .number(50))], method: .lmpt, seed: 0) }
    }

    @Test func integersGivenAsWholeNumbersAreAcceptedAndFractionsAreNot() throws {
        let epochs = try #require(TuningHyperparameters.hyperparameter("epochs"))
        #expect(try epochs.accept(.number(3)) == .integer(3))
        #expect(throws: HyperparameterError.self) { try epochs.accept(.number(2.5)) }
        let rate = try #require(TuningHyperparameters.hyperparameter("learning_rate"))
        #expect(try rate.accept(.integer(1)) == .number(1))
        #expect(throws: HyperparameterError.self) { try rate.accept(.number(.nan)) }
    }
}
