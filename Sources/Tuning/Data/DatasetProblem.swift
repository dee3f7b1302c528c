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
