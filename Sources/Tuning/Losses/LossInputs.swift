/// Shape and value checks shared by the losses; each failure is a `TuningError.invalidArgument`
/// naming what was wrong.
enum LossInputs {
    /// Checks logits z [N, C] against labels y [N, C] (multi-hot 0/1) and returns N; `classCount`
    /// is C when the loss knows it (per-class statistics), else any C > 0 dividing the count.
    static func checkLogits(_ logits: [Float], labels: [Float], classCount: Int? = nil) throws -> Int {
        guard logits.count == labels.count else {
            throw TuningError.invalidArgument("\(logits.count) logits but \(labels.count) labels")
        }
        guard !logits.isEmpty else { throw TuningError.invalidArgument("no logits") }
        try checkBinary(labels)
        guard let classCount else { return 1 }
        guard logits.count % classCount == 0 else {
            throw TuningError.invalidArgument("\(logits.count) logits is not a multiple of \(classCount) classes")
        }
        return logits.count / classCount
    }

    /// Labels must be exactly 0 or 1 (the losses branch on them).
    static func checkBinary(_ labels: [Float]) throws {
        if let bad = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw TuningError.invalidArgument("label \(bad) is \(labels[bad]), not 0 or 1")
        }
    }

    /// Training counts n_c of the classes: at least one class, each count ≥ 1.
    static func checkClassCounts(_ counts: [Int]) throws {
        guard !counts.isEmpty else { throw TuningError.invalidArgument("no class counts") }
        if let bad = counts.firstIndex(where: { $0 < 1 }) {
            throw TuningError.invalidArgument("class \(bad) has training count \(counts[bad]); counts must be ≥ 1")
        }
    }

    /// A hyper-parameter that must be a finite number (and, with `positive`, > 0; with
    /// `nonNegative`, ≥ 0).
    static func checkParameter(_ name: String, _ value: Float, positive: Bool = false, nonNegative: Bool = false) throws {
        guard value.isFinite, !positive || value > 0, !nonNegative || value >= 0 else {
            let need = positive ? "a finite number > 0" : nonNegative ? "a finite number ≥ 0" : "a finite number"
            throw TuningError.invalidArgument("\(name) is \(value); it must be \(need)")
        }
    }
}
