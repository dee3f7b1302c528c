/// Suggests the class a mistyped label probably meant: the same name up to case and surrounding spaces.
struct LabelHints {
    private var byFoldedName: [String: String] = [:]

    init(classes: [String]) {
        for name in classes {
            let folded = Self.fold(name)
            if byFoldedName[folded] == nil { byFoldedName[folded] = name }
        }
    }

    /// `"; did you mean 'Dog'?"`, or an empty string when nothing is close.
    func suggestion(for label: String) -> String {
        guard let match = byFoldedName[Self.fold(label)], match != label else { return "" }
        return "; did you mean '\(match)'?"
    }

    private static func fold(_ name: String) -> String {
        name.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
