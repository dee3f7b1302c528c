import Foundation

/// What a tagging request may choose besides its images: a prompt set (or a model, whose
/// default prompt set is used), zero-shot `classes` instead, how many labels to return
/// (`top_k`), and one decision threshold for every class instead of the prompt set's own.
struct TagOptions: Sendable, Equatable {
    static let names: Set<String> = ["prompt_set", "model", "classes", "top_k", "threshold"]
    /// Zero-shot classes in one request: each is a text-tower pass (about 3.5 ms for a long name on
    /// the demo model), so a list is bounded to keep one request from holding the encoder for seconds.
    static let maxClasses = 256
    static let maxClassNameLength = 200

    var promptSet: String?
    var model: String?
    var classes: [String]?
    var topK: Int?
    var threshold: Float?

    /// Sets an option from text (a query parameter or a form field); `classes` is comma-separated.
    mutating func set(_ name: String, text: String, source: String) throws {
        func duplicate() -> APIError {
            APIError(.unprocessableContent, code: "duplicate_option", message: "\(name) is given more than once", param: name)
        }
        switch name {
        case "prompt_set":
            guard promptSet == nil else { throw duplicate() }
            promptSet = text
        case "model":
            guard model == nil else { throw duplicate() }
            model = text
        case "classes":
            guard classes == nil else { throw duplicate() }
            classes = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
        case "top_k":
            guard topK == nil else { throw duplicate() }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError(.unprocessableContent, code: "invalid_type", message: "top_k must be an integer, got '\(text)'", param: "top_k")
            }
            topK = value
        case "threshold":
            guard threshold == nil else { throw duplicate() }
            guard let value = Float(text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError(.unprocessableContent, code: "invalid_type", message: "threshold must be a number, got '\(text)'", param: "threshold")
            }
            threshold = value
        default:
            throw APIError.unknownParameter(name, "unknown \(source) '\(name)'; expected one of \(Self.names.sorted().joined(separator: ", "))")
        }
    }

    /// Checks every option's value; class names are trimmed.
    /// Control characters (NUL, escapes) and bidirectional overrides would be echoed back in labels,
    /// as dataset class names refuse them.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || (0x202A...0x202E).contains(scalar.value)
            || (0x2066...0x2069).contains(scalar.value)
    }

    mutating func validate() throws {
        func invalid(_ param: String, _ message: String) -> APIError {
            APIError(.unprocessableContent, code: "invalid_value", message: message, param: param)
        }
        for (param, value) in [("prompt_set", promptSet), ("model", model)] {
            if let value, value.trimmingCharacters(in: .whitespaces).isEmpty { throw invalid(param, "\(param) must not be empty") }
        }
        if let names = classes {
            let trimmed = names.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard !trimmed.isEmpty else { throw invalid("classes", "classes must list at least one class") }
            guard trimmed.count <= Self.maxClasses else {
                throw invalid("classes", "classes lists \(trimmed.count) classes; at most \(Self.maxClasses)")
            }
            if let blank = trimmed.firstIndex(where: \.isEmpty) {
                throw invalid("classes[\(blank)]", "classes[\(blank)] is empty")
            }
            if let long = trimmed.firstIndex(where: { $0.count > Self.maxClassNameLength }) {
                throw invalid("classes[\(long)]", "classes[\(long)] is longer than \(Self.maxClassNameLength) characters")
            }
            if let bad = trimmed.firstIndex(where: { $0.unicodeScalars.contains(where: Self.isControl) }) {
                throw invalid("classes[\(bad)]", "classes[\(bad)] contains a control character")
            }
            var seen: Set<String> = []
            for (index, name) in trimmed.enumerated() where !seen.insert(name).inserted {
                throw invalid("classes[\(index)]", "class '\(name)' is listed twice")
            }
            if promptSet != nil {
                throw invalid("classes", "give either prompt_set or classes (zero-shot), not both")
            }
            classes = trimmed
        }
        if let topK, topK < 1 { throw invalid("top_k", "top_k must be at least 1, got \(topK)") }
        if let threshold, !(threshold.isFinite && (0...1).contains(threshold)) {
            throw invalid("threshold", "threshold must be in [0, 1], got \(threshold)")
        }
    }
}
