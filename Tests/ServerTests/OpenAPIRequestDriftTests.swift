import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// Request bodies the server refuses with 422 are refused by the document too, so a client (or a
/// generator such as schemathesis) that follows the document does not send them: the December
/// probe found `PATCH {}`, `prompt_set` with `classes`, and `learning_rate: 0` allowed.
@Suite("OpenAPI request bodies")
struct OpenAPIRequestDriftTests {
    /// The JSON request body schema of an operation.
    static func requestSchema(_ document: JSONValue, _ method: String, _ path: String) throws -> JSONValue {
        try #require(document["paths"]?[path]?[method]?["requestBody"]?["content"]?["application/json"]?["schema"])
    }

    @Test func bodiesTheServerRefusesBreakTheDocumentedSchema() async throws {
        let document = try OpenAPIDocumentTests.document()
        let check = OpenAPISchemaCheck(document: document)
        let test = try TuningTestApp()
        try FileManager.default.copyItem(at: try await TagFixtures.promptSetTemplate(),
                                         to: URL(fileURLWithPath: test.configuration.promptSetsDirectory).appendingPathComponent("shapes"))
        let image = Data(try TagFixtures.image("png_rgb.png")).base64EncodedString()
        try await test.application().test(.router) { client in
            try await client.waitUntilReady()
            let dataset = try await JobRoutesTests.uploadDataset(client, count: 6)
            let hyperparameters: [String: Any] = ["epochs": 1, "batch_size": 2, "n_ctx": 2]
            // (method, template, path, refused body, an accepted body beside it)
            let cases: [(HTTPRequest.Method, String, String, [String: Any], [String: Any])] = [
                (.patch, "/v1/prompt-sets/{id}", "/v1/prompt-sets/shapes", [:], ["thresholds": ["cat": 0.4]]),
                (.post, "/v1/tag", "/v1/tag",
                 ["images": [["base64": image]], "prompt_set": "shapes", "classes": ["cat"]],
                 ["images": [["base64": image]], "classes": ["cat"]]),
                (.post, "/v1/embeddings", "/v1/embeddings", ["input": [["text": "a cat", "image": image]]],
                 ["input": ["a cat", ["image": image]]]),
                (.post, "/v1/embeddings", "/v1/embeddings", ["input": [[101, 102]]], ["input": [["text": "a cat"]]]),
                (.post, "/v1/batches", "/v1/batches", ["dataset": dataset, "prompt_set": "shapes", "classes": ["cat"]],
                 ["dataset": dataset, "classes": ["cat"]]),
                (.post, "/v1/tuning/jobs", "/v1/tuning/jobs",
                 ["model": DatasetFixtures.modelName, "dataset": dataset, "method": "coop",
                  "hyperparameters": hyperparameters.merging(["learning_rate": 0]) { $1 }],
                 ["model": DatasetFixtures.modelName, "dataset": dataset, "method": "coop",
                  "hyperparameters": hyperparameters.merging(["learning_rate": 0.01]) { $1 }]),
            ]
            for (method, template, path, refused, accepted) in cases {
                let schema = try Self.requestSchema(document, method.rawValue.lowercased(), template)
                let refusedValue = try JSONValue.parse(try JSONSerialization.data(withJSONObject: refused))
                #expect(!check.problems(refusedValue, schema).isEmpty, "the document allows \(method) \(template) \(refused)")
                let (status, body) = try await client.send(method, path, json: refused)
                #expect(status == .unprocessableContent, "\(method) \(template): \(body)")

                let acceptedValue = try JSONValue.parse(try JSONSerialization.data(withJSONObject: accepted))
                #expect(check.problems(acceptedValue, schema).isEmpty, "\(check.problems(acceptedValue, schema))")
                let (fine, answer) = try await client.send(method, path, json: accepted)
                #expect(fine.code / 100 == 2, "\(method) \(template): \(answer)")
            }
        }
    }
}
