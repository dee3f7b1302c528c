import Foundation
@testable import Server

/// Checks JSON values against the JSON Schemas of the OpenAPI document, strictly enough to keep the
/// document true: an object may carry only the properties its schema declares (unless the schema
/// says otherwise with `additionalProperties`), and a keyword this checker does not know is itself
/// a failure, so the document cannot use a rule that goes unchecked.
struct OpenAPISchemaCheck {
    /// The whole document, for `$ref`s.
    let document: JSONValue

    /// Keywords that only describe: nothing to check (and OpenAPI's `x-` extensions, which describe too).
    static let annotations: Set<String> = [
        "description", "title", "default", "examples", "deprecated", "readOnly", "writeOnly", "format", "contentMediaType",
    ]
    static let keywords: Set<String> = [
        "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "minProperties", "items",
        "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
        "pattern", "allOf", "anyOf", "oneOf", "not",
    ]

    /// What `value` breaks in `schema`, each with its JSON path; empty when it conforms.
    func problems(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        problems(value, schema, at: path, closed: true)
    }

    /// The schema a `$ref` such as `#/components/schemas/Error` points to.
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = document
        for part in reference.dropFirst(2).split(separator: "/") {
            guard case .object(let fields)? = node else { return nil }
            node = fields[String(part).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        }
        return node
    }

    /// `closed`: whether undeclared properties are refused here (false inside `allOf`, whose
    /// branches together declare the object's properties).
    private func problems(_ value: JSONValue, _ schema: JSONValue, at path: String, closed: Bool) -> [String] {
        guard case .object(let rules) = schema else { return ["\(path): the schema is not an object"] }
        var found: [String] = []
        for key in rules.keys.sorted() where !Self.keywords.contains(key) && !Self.annotations.contains(key) && !key.hasPrefix("x-") {
            found.append("\(path): the schema uses '\(key)', which this check does not know")
        }
        if case .string(let reference)? = rules["$ref"] {
            guard let target = resolve(reference) else { return found + ["\(path): $ref \(reference) resolves to nothing"] }
            found += problems(value, target, at: path, closed: closed)
        }
        if let type = rules["type"] {
            let allowed: [String]
            switch type {
            case .string(let name): allowed = [name]
            case .array(let names): allowed = names.compactMap { if case .string(let s) = $0 { s } else { nil } }
            default: allowed = []
            }
            if !allowed.contains(where: { Self.matches(value, type: $0) }) {
                return found + ["\(path): expected \(allowed.joined(separator: " or ")), got \(value.typeName) \(Self.brief(value))"]
            }
        }
        if case .array(let options)? = rules["enum"], !options.contains(where: { Self.same($0, value) }) {
            found.append("\(path): \(Self.brief(value)) is not one of \(options.map(Self.brief).joined(separator: ", "))")
        }
        if let constant = rules["const"], !Self.same(constant, value) {
            found.append("\(path): expected \(Self.brief(constant)), got \(Self.brief(value))")
        }
        found += numberProblems(value, rules, at: path) + stringProblems(value, rules, at: path)
        found += arrayProblems(value, rules, at: path) + objectProblems(value, rules, at: path, closed: closed)

        if case .array(let branches)? = rules["allOf"] {
            for branch in branches { found += problems(value, branch, at: path, closed: false) }
            if closed, case .object(let fields) = value {
                let declared = branches.reduce(into: Set<String>()) { $0.formUnion(declaredProperties($1)) }
                for key in fields.keys.sorted() where !declared.contains(key) {
                    found.append("\(path).\(key): not in the schema (an undocumented field)")
                }
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            guard case .array(let branches)? = rules[keyword] else { continue }
            let results = branches.map { problems(value, $0, at: path, closed: closed) }
            let passing = results.filter(\.isEmpty).count
            if passing == 0 || (keyword == "oneOf" && passing > 1) {
                let detail = results.map { $0.joined(separator: "; ") }.joined(separator: " | ")
                found.append("\(path): \(passing) of the \(keyword) branches match (\(detail))")
            }
        }
        if let negated = rules["not"], problems(value, negated, at: path, closed: false).isEmpty {
            found.append("\(path): matches the schema under 'not' (\(Self.brief(negated)))")
        }
        return found
    }

    private func numberProblems(_ value: JSONValue, _ rules: [String: JSONValue], at path: String) -> [String] {
        guard let number = value.numberValue else { return [] }
        var found: [String] = []
        func bound(_ key: String, _ holds: (Double, Double) -> Bool) {
            if let limit = rules[key]?.numberValue, !holds(number, limit) { found.append("\(path): \(number) breaks \(key) \(limit)") }
        }
        bound("minimum", >=)
        bound("maximum", <=)
        bound("exclusiveMinimum", >)
        bound("exclusiveMaximum", <)
        return found
    }

    private func stringProblems(_ value: JSONValue, _ rules: [String: JSONValue], at path: String) -> [String] {
        guard case .string(let text) = value else { return [] }
        var found: [String] = []
        if let minimum = rules["minLength"]?.integerValue, text.count < minimum { found.append("\(path): shorter than \(minimum)") }
        if let maximum = rules["maxLength"]?.integerValue, text.count > maximum { found.append("\(path): longer than \(maximum)") }
        if case .string(let pattern)? = rules["pattern"] {
            if let regex = try? NSRegularExpression(pattern: pattern) {
                if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                    found.append("\(path): '\(text)' does not match \(pattern)")
                }
            } else {
                found.append("\(path): the pattern \(pattern) does not compile")
            }
        }
        return found
    }

    private func arrayProblems(_ value: JSONValue, _ rules: [String: JSONValue], at path: String) -> [String] {
        guard case .array(let items) = value else { return [] }
        var found: [String] = []
        if let minimum = rules["minItems"]?.integerValue, items.count < minimum { found.append("\(path): fewer than \(minimum) items") }
        if let maximum = rules["maxItems"]?.integerValue, items.count > maximum { found.append("\(path): more than \(maximum) items") }
        if rules["uniqueItems"] == .bool(true) {
            for (index, item) in items.enumerated() where items[..<index].contains(where: { Self.same($0, item) }) {
                found.append("\(path)[\(index)]: a repeated item, but the items must be unique")
            }
        }
        if let schema = rules["items"] {
            for (index, item) in items.enumerated() { found += problems(item, schema, at: "\(path)[\(index)]") }
        }
        return found
    }

    private func objectProblems(_ value: JSONValue, _ rules: [String: JSONValue], at path: String, closed: Bool) -> [String] {
        guard case .object(let fields) = value else { return [] }
        var found: [String] = []
        if case .array(let required)? = rules["required"] {
            for case .string(let name) in required where fields[name] == nil { found.append("\(path).\(name): required but absent") }
        }
        if let minimum = rules["minProperties"]?.integerValue, fields.count < minimum {
            found.append("\(path): fewer than \(minimum) properties")
        }
        var properties: [String: JSONValue] = [:]
        if case .object(let declared)? = rules["properties"] { properties = declared }
        for key in fields.keys.sorted() {
            let child = "\(path).\(key)"
            if let schema = properties[key] {
                found += problems(fields[key]!, schema, at: child)
            } else if let additional = rules["additionalProperties"] {
                if additional == .bool(false) { found.append("\(child): not allowed (additionalProperties is false)") }
                else if case .object = additional { found += problems(fields[key]!, additional, at: child) }
            } else if closed && rules["properties"] != nil {
                found.append("\(child): not in the schema (an undocumented field)")
            }
        }
        return found
    }

    /// The property names a schema declares, following `$ref` and nested `allOf`.
    private func declaredProperties(_ schema: JSONValue) -> Set<String> {
        guard case .object(let rules) = schema else { return [] }
        var names: Set<String> = []
        if case .object(let properties)? = rules["properties"] { names.formUnion(properties.keys) }
        if case .string(let reference)? = rules["$ref"], let target = resolve(reference) { names.formUnion(declaredProperties(target)) }
        if case .array(let branches)? = rules["allOf"] { for branch in branches { names.formUnion(declaredProperties(branch)) } }
        return names
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .integer), ("number", .number): return true
        case ("integer", _): return value.integerValue != nil
        default: return false
        }
    }

    /// Equal as JSON values (2 and 2.0 are the same number).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.numberValue, let y = b.numberValue { return x == y }
        return a == b
    }

    static func brief(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return "\(flag)"
        case .integer(let number): return "\(number)"
        case .number(let number): return "\(number)"
        case .string(let text): return "\"\(text.prefix(60))\""
        case .array(let items): return "[\(items.count) items]"
        case .object(let fields): return "{\(fields.keys.sorted().prefix(6).joined(separator: ", "))}"
        }
    }
}

extension JSONValue {
    /// The value at `key` of an object, else nil.
    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] } else { return nil }
    }

    var stringValue: String? {
        if case .string(let text) = self { return text } else { return nil }
    }

    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items } else { return nil }
    }

    var objectValue: [String: JSONValue]? {
        if case .object(let fields) = self { return fields } else { return nil }
    }

    static func parse(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }
}
