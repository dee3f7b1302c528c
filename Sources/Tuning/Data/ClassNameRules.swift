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
