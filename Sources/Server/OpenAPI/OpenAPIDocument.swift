import Foundation
import Hummingbird
import Tuning

/// The OpenAPI 3.1 document this server serves at `GET /openapi.json`: `openapi.json` (kept in the
/// binary as `OpenAPIJSON.text`, so an installed `tagtune` needs no file beside it) with the
/// hyper-parameter schemas filled in from `TuningHyperparameters.table`, which the web page reads
/// to build its tuning form. Without API keys configured, no operation requires `Authorization`
/// (the `bearerAuth` requirements are served as `security: []`).
public enum OpenAPIDocument {
    /// The file with the table's properties in place of its placeholders (empty schemas).
    static let withKeys: String = {
        var json = OpenAPIJSON.text
        for (placeholder, schema) in [("request", requestProperties), ("record", recordProperties)] {
            json = json.replacingOccurrences(of: #""x-hyperparameter-table:"# + placeholder + #"": {}"#, with: schema)
        }
        return json.replacingOccurrences(of: #""x-order": "x-hyperparameter-table""#, with: order)
    }()

    /// The same without the `bearerAuth` requirements.
    static let keyless: String = {
        let requirement = try! NSRegularExpression(pattern: #""security": \[\s*\{\s*"bearerAuth": \[\]\s*\}\s*\]"#)
        return requirement.stringByReplacingMatches(in: withKeys, range: NSRange(withKeys.startIndex..., in: withKeys),
                                                    withTemplate: #""security": []"#)
    }()

    public static func served(keysConfigured: Bool) -> String { keysConfigured ? withKeys : keyless }

    /// The request's properties: a value of the field's kind, or "auto".
    static var requestProperties: String {
        TuningHyperparameters.table.map { field in
            var schema = annotations(field)
            schema["anyOf"] = [base(field), ["const": "auto"]]
            schema["x-defaults"] = Dictionary(uniqueKeysWithValues: TuningMethod.allCases.map { method in
                (method.rawValue, field.defaultValue(for: method).map(jsonValue) ?? NSNull())
            })
            schema["x-methods"] = field.methods.map(\.rawValue)
            if field.legacy { schema["deprecated"] = true }
            return "\(text(field.name)): \(text(schema))"
        }.joined(separator: ",\n")
    }

    /// The resolved record's properties (a job's and a prompt set's `hyperparameters`).
    static var recordProperties: String {
        TuningHyperparameters.table.filter { !$0.legacy }.map { field in
            var schema = annotations(field)
            for (key, value) in base(field) { schema[key] = value }
            return "\(text(field.name)): \(text(schema))"
        }.joined(separator: ",\n")
    }

    /// The names in the table's order, for forms.
    static var order: String {
        #""x-order": "# + text(TuningHyperparameters.table.filter { !$0.legacy }.map(\.name))
    }

    private static func annotations(_ field: Hyperparameter) -> [String: Any] {
        ["title": field.title, "description": field.help]
    }

    /// JSON Schema of a value of the field's kind and range.
    private static func base(_ field: Hyperparameter) -> [String: Any] {
        var schema: [String: Any]
        switch field.kind {
        case .integer: schema = ["type": "integer"]
        case .number: schema = ["type": "number"]
        case .boolean: schema = ["type": "boolean"]
        case .text(let limit): schema = ["type": "string", "minLength": 1, "maxLength": limit]
        case .choice(let options): schema = ["type": "string", "enum": options]
        }
        if let bounds = field.bounds {
            let integer = field.kind == .integer
            func number(_ x: Double) -> Any { integer || x == x.rounded() && abs(x) < 1e15 ? Int(x) as Any : x as Any }
            if let lower = bounds.lower { schema[bounds.lowerInclusive ? "minimum" : "exclusiveMinimum"] = number(lower) }
            if let upper = bounds.upper { schema[bounds.upperInclusive ? "maximum" : "exclusiveMaximum"] = number(upper) }
        }
        return schema
    }

    private static func jsonValue(_ value: Hyperparameter.Value) -> Any {
        switch value {
        case .integer(let i): return i
        case .number(let x): return x
        case .boolean(let b): return b
        case .text(let s): return s
        }
    }

    private static func text(_ object: Any) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }
}

/// `GET /openapi.json`: the OpenAPI 3.1 document of this API, for clients, code generators and
/// API testers. It describes this server: without API keys configured, no operation requires
/// `Authorization` (the document's `bearerAuth` requirements are served as `security: []`).
struct OpenAPIController {
    static let path = "/openapi.json"
    var keysConfigured = true

    func register(on router: TableRouter) {
        // Built once: the document does not change while the binary runs.
        let body = ByteBuffer(string: OpenAPIDocument.served(keysConfigured: keysConfigured))
        router.get(RouterPath(Self.path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
    }
}
