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
