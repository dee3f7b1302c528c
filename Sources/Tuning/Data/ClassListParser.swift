import Foundation

/// Reads `classes.txt`: one class name a line, in class order. Names may contain inner spaces;
/// spaces around a name and blank lines at the end of the file are ignored.
enum ClassListParser {
    static let fileName = "classes.txt"

    /// The class names, with every problem of the file recorded in `problems`.
    static func parse(_ bytes: Data, maximumClasses: Int,
                      problems: inout DatasetProblemCollector) -> [String] {
        var names: [String] = []
        var firstLine: [String: Int] = [:]
        var pendingBlankLines: [Int] = []
        for line in TextLines(bytes: bytes) {
            guard let text = line.text else {
                problems.problem(file: fileName, line: line.number, "line is not valid UTF-8")
                continue
            }
            let name = text.trimmingCharacters(in: .whitespaces)
            if name.isEmpty {
                // Blank lines only count as empty names when a name follows them.
                pendingBlankLines.append(line.number)
                continue
            }
            for blank in pendingBlankLines {
                problems.problem(file: fileName, line: blank, "empty class name")
            }
            pendingBlankLines.removeAll()
            if let message = ClassNameRules.problem(with: name) {
                problems.problem(file: fileName, line: line.number, field: name, message)
            }
            if let first = firstLine[name] {
                problems.problem(file: fileName, line: line.number, field: name,
                                 "duplicate class name (first on line \(first))")
                continue
            }
            firstLine[name] = line.number
            names.append(name)
            if names.count > maximumClasses {
                problems.problem(file: fileName, line: line.number,
                                 "more than \(maximumClasses) classes; the limit is \(maximumClasses)")
                return names
            }
        }
        if names.isEmpty, firstLine.isEmpty {
            problems.problem(file: fileName, "no class names; give one a line")
        }
        return names
    }
}

/// What a class name may be: it must survive a round trip through `classes.txt` (one a line,
/// trimmed) and through a prompt, so no line breaks, no surrounding spaces, and not empty.
enum ClassNameRules {
    /// Why `name` cannot be a class name, or nil when it can.
    static func problem(with name: String) -> String? {
        if name.isEmpty { return "empty class name" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "class name contains a control character (tab, line break or the like)"
        }
        if name.first?.isWhitespace == true || name.last?.isWhitespace == true {
            return "class name starts or ends with a space"
        }
        return nil
    }
}
