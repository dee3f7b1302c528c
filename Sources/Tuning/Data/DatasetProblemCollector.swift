/// Gathers a dataset's problems and warnings, keeping the first `maximum` of each and counting the rest,
/// so a badly broken file of a million lines cannot fill memory with messages.
struct DatasetProblemCollector: Sendable {
    let maximum: Int
    private(set) var problems: [DatasetProblem] = []
    private(set) var problemCount = 0
    private(set) var warnings: [DatasetProblem] = []
    private(set) var warningCount = 0

    init(maximum: Int) {
        self.maximum = max(1, maximum)
    }

    var hasProblems: Bool { problemCount > 0 }

    mutating func problem(_ problem: DatasetProblem) {
        problemCount += 1
        if problems.count < maximum { problems.append(problem) }
    }

    mutating func problem(file: String? = nil, line: Int? = nil, field: String? = nil, _ message: String) {
        problem(DatasetProblem(file: file, line: line, field: field, message: message))
    }

    mutating func warning(_ warning: DatasetProblem) {
        warningCount += 1
        if warnings.count < maximum { warnings.append(warning) }
    }

    /// Takes over another collector's findings (such as those of a parser run on its own).
    mutating func merge(_ other: DatasetProblemCollector) {
        for problem in other.problems { self.problem(problem) }
        problemCount += other.problemCount - other.problems.count
        for warning in other.warnings { self.warning(warning) }
        warningCount += other.warningCount - other.warnings.count
    }

    /// The error to throw when any problem was found; nil for a valid dataset.
    /// The listed problems are ordered by file and line (checks run in phases, not line by line).
    var error: DatasetValidationError? {
        guard hasProblems else { return nil }
        return DatasetValidationError(problems: Self.ordered(problems), totalProblemCount: problemCount,
                                      warnings: Self.ordered(warnings))
    }

    /// Stable order by file, then line; problems without a file or line come first.
    private static func ordered(_ list: [DatasetProblem]) -> [DatasetProblem] {
        list.enumerated().sorted { a, b in
            let keyA = (a.element.file ?? "", a.element.line ?? 0, a.offset)
            let keyB = (b.element.file ?? "", b.element.line ?? 0, b.offset)
            return keyA < keyB
        }.map(\.element)
    }

    /// Throws the collected problems, if any.
    func throwIfProblems() throws(DatasetValidationError) {
        if let error { throw error }
    }
}
