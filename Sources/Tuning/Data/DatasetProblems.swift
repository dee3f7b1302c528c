/// One thing wrong (or worth a warning) in a dataset: which file, which line, which field, and what.
public struct DatasetProblem: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    /// File the problem is in, relative to the dataset root (`manifest.jsonl`, `classes.txt`,
    /// an image path, or the archive's name); nil when it concerns the dataset as a whole.
    public var file: String?
    /// 1-based line number in `file`, when the problem is on a line.
    public var line: Int?
    /// The field at fault (`image`, `labels`, `labels[2]`, `caption`, a class name); nil for a whole line.
    public var field: String?
    /// What is wrong, in words a person can act on.
    public var message: String

    /// A problem at a place; every part but the message is optional.
    public init(file: String? = nil, line: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// `file:line: field: message`, leaving out the parts that are unknown.
    public var description: String {
        var place = ""
        if let file { place += file }
        if let line { place += place.isEmpty ? "line \(line)" : ":\(line)" }
        var text = place.isEmpty ? "" : place + ": "
        if let field { text += field + ": " }
        return text + message
    }
}

/// A dataset that was refused, with every problem found (up to a limit) so all can be fixed at once.
public struct DatasetValidationError: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    /// The problems, ordered by file and line, at most the configured maximum.
    public var problems: [DatasetProblem]
    /// How many problems were found in all; more than `problems.count` when the list was cut.
    public var totalProblemCount: Int
    /// Warnings found on the way (such as classes without images); they alone never refuse a dataset.
    public var warnings: [DatasetProblem]

    /// An error from its problems; `totalProblemCount` defaults to the number listed.
    public init(problems: [DatasetProblem], totalProblemCount: Int? = nil, warnings: [DatasetProblem] = []) {
        self.problems = problems
        self.totalProblemCount = max(totalProblemCount ?? problems.count, problems.count)
        self.warnings = warnings
    }

    /// An error with one problem.
    public init(_ problem: DatasetProblem) {
        self.init(problems: [problem])
    }

    private enum CodingKeys: String, CodingKey {
        case problems
        case totalProblemCount = "total_problem_count"
        case warnings
    }

    /// A headline with the count, then one problem a line.
    public var description: String {
        let noun = totalProblemCount == 1 ? "problem" : "problems"
        var lines = ["invalid dataset: \(totalProblemCount) \(noun)"
            + (totalProblemCount > problems.count ? " (first \(problems.count) listed)" : "")]
        lines += problems.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }
}

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

/// Messages of a `TuningError` as dataset problems quote them.
extension TuningError {
    /// The message without the `dataset:` style prefix, for problems that already say where they are.
    var bareMessage: String {
        switch self {
        case .dataset(let message), .invalidArgument(let message), .artifact(let message): return message
        default: return description
        }
    }
}
