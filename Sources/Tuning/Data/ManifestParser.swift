import Foundation

/// Reads `manifest.jsonl`: one JSON object a line, `{"image": "a.jpg", "labels": ["dog"], "caption": "…"}`,
/// with `caption` optional (absent or null). Every problem is recorded with its line and field.
enum ManifestParser {
    static let fileName = "manifest.jsonl"
    static let allowedFields = ["image", "labels", "caption"]

    /// What the manifest holds: items in file order and the line each came from.
    struct Parsed {
        var items: [DatasetItem] = []
        var lineNumbers: [Int] = []
        /// Images of lines refused for another field, still worth checking so every problem is reported.
        var imagesOfRefusedLines: [(image: String, line: Int)] = []
    }

    /// Parses the manifest against the class names of `classes.txt`.
    static func parse(_ bytes: Data, classes: [String], allowsEmptyLabelSets: Bool, maximumItems: Int,
                      problems: inout DatasetProblemCollector) -> Parsed {
        var classIndex: [String: Int] = [:]
        for (index, name) in classes.enumerated() { classIndex[name] = index }
        let hints = LabelHints(classes: classes)
        var parsed = Parsed()
        var firstLineOfImage: [String: Int] = [:]
        var lineCount = 0
        for line in TextLines(bytes: bytes) where !line.isBlank {
            lineCount += 1
            if lineCount > maximumItems {
                problems.problem(file: fileName, line: line.number,
                                 "more than \(maximumItems) items; the limit is \(maximumItems)")
                break
            }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: line.bytes, options: [.fragmentsAllowed])
            } catch {
                problems.problem(file: fileName, line: line.number, "invalid JSON: \(describe(error))")
                continue
            }
            guard let fields = object as? [String: Any] else {
                problems.problem(file: fileName, line: line.number,
                                 "a line must be a JSON object such as {\"image\": \"a.jpg\", \"labels\": [\"dog\"]}")
                continue
            }
            var lineIsValid = true
            func fail(_ field: String?, _ message: String) {
                problems.problem(file: fileName, line: line.number, field: field, message)
                lineIsValid = false
            }

            for key in fields.keys.sorted() where !allowedFields.contains(key) {
                fail(key, "unknown field; a line has \"image\", \"labels\" and optionally \"caption\"")
            }

            var image: String?
            switch fields["image"] {
            case nil: fail("image", "missing field")
            case let raw as String:
                switch DatasetRelativePath.normalise(raw) {
                case .success(let path):
                    if let first = firstLineOfImage[path] {
                        fail("image", "duplicate image entry '\(path)' (first on line \(first))")
                    } else {
                        firstLineOfImage[path] = line.number
                        image = path
                    }
                case .failure(let reason): fail("image", "\(reason): '\(raw)'")
                }
            case let other?: fail("image", "must be a string, not \(JSONTypeName.of(other))")
            }

            var labels: [Int] = []
            switch fields["labels"] {
            case nil: fail("labels", "missing field")
            case let list as [Any]:
                var seen: [String: Int] = [:]
                for (position, element) in list.enumerated() {
                    let field = "labels[\(position)]"
                    guard let name = element as? String else {
                        fail(field, "must be a class name (string), not \(JSONTypeName.of(element))")
                        continue
                    }
                    if let earlier = seen[name] {
                        fail(field, "duplicate label '\(name)' (also labels[\(earlier)])")
                        continue
                    }
                    seen[name] = position
                    guard let index = classIndex[name] else {
                        fail(field, "unknown label '\(name)'; it is not in classes.txt" + hints.suggestion(for: name))
                        continue
                    }
                    labels.append(index)
                }
                if list.isEmpty, !allowsEmptyLabelSets {
                    fail("labels", "empty label set; every image needs at least one label")
                }
            case let other?: fail("labels", "must be a list of class names, not \(JSONTypeName.of(other))")
            }

            var caption: String?
            switch fields["caption"] {
            case nil, is NSNull: break
            case let text as String:
                if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    fail("caption", "empty caption; leave the field out when there is none")
                } else {
                    caption = text
                }
            case let other?: fail("caption", "must be a string, not \(JSONTypeName.of(other))")
            }

            if lineIsValid, let image {
                parsed.items.append(DatasetItem(image: image, labels: labels, caption: caption))
                parsed.lineNumbers.append(line.number)
            } else if let image {
                parsed.imagesOfRefusedLines.append((image, line.number))
            }
        }
        if lineCount == 0 {
            problems.problem(file: fileName, "no items; give one JSON object a line")
        }
        return parsed
    }

    /// Foundation's parser message without its generic preamble.
    private static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }
}

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

/// Names the JSON type of a value from `JSONSerialization`, for messages like "must be a string, not a number".
enum JSONTypeName {
    static func of(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "a string"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumber too; only they have the C type "c" (char).
            return String(cString: number.objCType) == "c" ? "a boolean" : "a number"
        default: return "a \(type(of: value))"
        }
    }
}
