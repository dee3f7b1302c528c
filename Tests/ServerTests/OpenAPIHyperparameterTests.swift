import Foundation
import Testing
import Tuning
@testable import Server

/// The document's hyper-parameter schemas are the table's, and the edited file is the one built in.
@Suite("OpenAPI document and the hyper-parameter table")
struct OpenAPIHyperparameterTests {
    static let source = TagFixtures.repository.appendingPathComponent("Sources/Server/OpenAPI/openapi.json")

    @Test func theBuiltInDocumentIsTheEditedFile() throws {
        let file = try String(contentsOf: Self.source, encoding: .utf8)
        #expect(file.trimmingCharacters(in: .newlines) == OpenAPIJSON.text,
                "Sources/Server/OpenAPI/openapi.json changed: run python3 scripts/generate_openapi.py")
    }

    @Test func requestAndRecordSchemasListTheTableWithItsRangesAndDefaults() throws {
        let document = try JSONValue.parse(Data(OpenAPIDocument.withKeys.utf8))
        let schemas = try #require(document["components"]?["schemas"])
        let request = try #require(schemas["HyperparametersRequest"]?["properties"]?.objectValue)
        let record = try #require(schemas["Hyperparameters"]?["properties"]?.objectValue)
        let table = TuningHyperparameters.table
        #expect(Set(request.keys) == Set(table.map(\.name)))
        #expect(Set(record.keys) == Set(table.filter { !$0.legacy }.map(\.name) + ["method", "seed", "fixed"]))
        #expect(schemas["HyperparametersRequest"]?["x-order"]?.arrayValue?.compactMap(\.stringValue) == table.filter { !$0.legacy }.map(\.name))
        for field in table {
            let property = try #require(request[field.name]?.objectValue, "\(field.name)")
            let value = try #require(property["anyOf"]?.arrayValue?.first)
            #expect(property["anyOf"]?.arrayValue?.last?["const"]?.stringValue == "auto")
            #expect(property["title"]?.stringValue == field.title && property["description"]?.stringValue == field.help)
            if let bounds = field.bounds {
                let lower = value[bounds.lowerInclusive ? "minimum" : "exclusiveMinimum"]?.numberValue
                let upper = value[bounds.upperInclusive ? "maximum" : "exclusiveMaximum"]?.numberValue
                #expect(lower == bounds.lower && upper == bounds.upper, "\(field.name)")
            }
            if case .choice(let options) = field.kind {
                #expect(value["enum"]?.arrayValue?.compactMap(\.stringValue) == options, "\(field.name)")
            }
            for method in TuningMethod.allCases {
                let served = property["x-defaults"]?[method.rawValue]
                switch field.defaultValue(for: method) {
                case .integer(let i)?: #expect(served?.numberValue == Double(i), "\(field.name) \(method)")
                case .number(let x)?: #expect(served?.numberValue == x, "\(field.name) \(method)")
                case .text(let s)?: #expect(served?.stringValue == s, "\(field.name) \(method)")
                case .boolean(let b)?: #expect(served == .bool(b), "\(field.name) \(method)")
                case nil: #expect(served == .null, "\(field.name) \(method)")
                }
            }
        }
        #expect(OpenAPIDocument.served(keysConfigured: false).contains(#""security": []"#))
    }
}
