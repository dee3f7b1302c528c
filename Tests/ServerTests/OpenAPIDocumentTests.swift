import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import Server

/// The OpenAPI document at `/openapi.json` is kept true: it is OpenAPI 3.1 in shape, it lists
/// exactly the routes the router serves, every operation names its success and error responses,
/// and the responses the server really sends match their schemas.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    static let apiKey = "openapi-test-key-0123456789"
    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    struct Operation: CustomStringConvertible {
        let method: String
        let path: String
        let fields: [String: JSONValue]
        var description: String { "\(method.uppercased()) \(path)" }
    }

    static func document() throws -> JSONValue { try JSONValue.parse(Data(OpenAPIDocument.withKeys.utf8)) }

    static func operations(_ document: JSONValue) throws -> [Operation] {
        let paths = try #require(document["paths"]?.objectValue)
        return paths.keys.sorted().flatMap { path in
            (paths[path]?.objectValue ?? [:]).compactMap { method, value in
                Self.methods.contains(method) ? value.objectValue.map { Operation(method: method, path: path, fields: $0) } : nil
            }.sorted { $0.method < $1.method }
        }
    }

    /// Every `$ref` anywhere in `value`.
    static func references(in value: JSONValue) -> [String] {
        switch value {
        case .object(let fields):
            return (fields["$ref"]?.stringValue.map { [$0] } ?? []) + fields.values.flatMap(references)
        case .array(let items):
            return items.flatMap(references)
        default:
            return []
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "openapi-test")
        logger.logLevel = .warning
        return logger
    }

    @Test func documentIsStructurallyOpenAPI31() throws {
        let document = try Self.document()
        #expect(document["openapi"]?.stringValue?.hasPrefix("3.1.") == true)
        #expect(document["info"]?["title"]?.stringValue == "TagTune")
        #expect(document["info"]?["version"]?.stringValue == BuildInfo.version, "the document's version is the binary's")
        let paths = try #require(document["paths"]?.objectValue)
        #expect(!paths.isEmpty && paths.keys.allSatisfy { $0.hasPrefix("/") })
        let components = try #require(document["components"])
        #expect(components["schemas"]?["Error"] != nil && components["schemas"]?["ErrorDetail"] != nil)
        #expect(components["securitySchemes"]?["bearerAuth"]?["type"]?.stringValue == "http")
        #expect(components["securitySchemes"]?["bearerAuth"]?["scheme"]?.stringValue == "bearer")

        let check = OpenAPISchemaCheck(document: document)
        let unresolved = Self.references(in: document).filter { check.resolve($0) == nil }
        #expect(unresolved.isEmpty, "$refs that point to nothing: \(unresolved)")

        let ids = try Self.operations(document).compactMap { $0.fields["operationId"]?.stringValue }
        #expect(ids.count == (try Self.operations(document)).count, "every operation has an operationId")
        #expect(Set(ids).count == ids.count, "operationIds are unique: \(ids.sorted())")
    }

    /// The error shape the error middleware writes is the `Error` schema, field for field.
    @Test func errorSchemaIsTheErrorMiddlewaresShape() throws {
        let document = try Self.document()
        let check = OpenAPISchemaCheck(document: document)
        let error = try #require(check.resolve("#/components/schemas/Error"))
        for param: String? in ["images[0].base64", nil] {
            let body = APIError.Body(error: .init(message: "m", type: "invalid_request_error", code: "c", param: param))
            let value = try JSONValue.parse(try JSONEncoder().encode(body))
            #expect(check.problems(value, error).isEmpty, "\(check.problems(value, error))")
        }
        let broken = try JSONValue.parse(Data(#"{"error": {"message": "m", "type": "invalid_request_error", "code": 3}}"#.utf8))
        #expect(!check.problems(broken, error).isEmpty, "a wrong type and a missing param are caught")
        let extra = try JSONValue.parse(Data(#"{"error": {"message": "m", "type": "server_error", "code": "c", "param": null, "hint": "x"}}"#.utf8))
        #expect(check.problems(extra, error).contains { $0.contains("undocumented") }, "an undocumented field is caught")
    }

    /// Hummingbird's own route list, the route table behind the 405s, and the document agree exactly.
    @Test func documentListsExactlyTheRoutesTheRouterServes() async throws {
        let test = try TuningTestApp()
        let routes = RouteTable()
        let dependencies = AppDependencies(registry: test.registry, tuning: .given(test.backend))
        let router = try buildRouter(configuration: test.configuration, dependencies: dependencies,
                                 inference: try AppComponents(configuration: test.configuration, dependencies: dependencies,
                                                                logger: Self.logger),
                                 routes: routes, logger: Self.logger)
        let served = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let tabled = Set(routes.entries.map { "\($0.method.rawValue) \($0.template)" })
        let documented = Set(try Self.operations(try Self.document()).map { "\($0.method.uppercased()) \($0.path)" })

        #expect(served.count > 20, "the tuning routes are registered too: \(served.sorted())")
        #expect(served == tabled,
                "served but not in the route table: \(served.subtracting(tabled).sorted()); in the table but not served: \(tabled.subtracting(served).sorted())")
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
    }

    /// What the middleware and the route shapes guarantee, each operation must say.
    @Test func everyOperationDocumentsItsSuccessAndErrorResponses() throws {
        let document = try Self.document()
        let check = OpenAPISchemaCheck(document: document)
        let errorShape = try #require(check.resolve("#/components/schemas/Error"))
        for operation in try Self.operations(document) {
            let responses = try #require(operation.fields["responses"]?.objectValue, "\(operation) has no responses")
            let successes = responses.keys.filter { $0.hasPrefix("2") }
            #expect(successes.count == 1, "\(operation) documents one success status, not \(successes.sorted())")

            var required: Set<String> = ["500"]
            // Load shedding and the request timeout cover every route but liveness.
            if operation.path != "/healthz" { required.formUnion(["429", "503"]) }
            if operation.path.contains("{") { required.insert("404") }
            if operation.fields["requestBody"] != nil { required.formUnion(["413", "415", "422"]) }
            let parameters = operation.fields["parameters"]?.arrayValue ?? []
            if parameters.contains(where: { $0["in"]?.stringValue == "query" }) { required.insert("422") }
            let mutating = ["post", "put", "patch", "delete"].contains(operation.method)
            if mutating && operation.path.hasPrefix("/v1/") {
                required.insert("401")
                let security = operation.fields["security"]?.arrayValue ?? []
                #expect(security.contains { $0["bearerAuth"] != nil }, "\(operation) needs bearerAuth: APIKeyMiddleware guards it")
            } else {
                #expect(operation.fields["security"] == nil, "\(operation) is open: APIKeyMiddleware guards only mutating /v1 routes")
            }
            let missing = required.subtracting(responses.keys)
            #expect(missing.isEmpty, "\(operation) does not document \(missing.sorted())")

            // Path parameters are declared, one for each `{name}` in the template.
            let templateNames = Set(operation.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            let declared = Set(parameters.filter { $0["in"]?.stringValue == "path" }.compactMap { $0["name"]?.stringValue })
            #expect(templateNames == declared, "\(operation): path parameters \(declared.sorted()), template has \(templateNames.sorted())")

            // Every error answers in the error shape: a sample error body conforms to each error response's schema.
            let sample = try JSONValue.parse(Data(#"{"error": {"message": "m", "type": "server_error", "code": "c", "param": null}}"#.utf8))
            #expect(check.problems(sample, errorShape).isEmpty)
            for (status, response) in responses where !status.hasPrefix("2") {
                var resolved = response
                if let reference = response["$ref"]?.stringValue { resolved = try #require(check.resolve(reference)) }
                let schema = try #require(resolved["content"]?["application/json"]?["schema"],
                                          "\(operation) \(status) has no application/json error body")
                #expect(check.problems(sample, schema).isEmpty, "\(operation) \(status) is not the error shape")
            }
        }
    }

    @Test func servedDocumentIsTheDocumentAndNeedsNoKey() async throws {
        var configuration = try OperationsRoutesTests.configuration()
        configuration.auth = try AuthConfiguration(apiKeys: [Self.apiKey], required: true)
        let app = try buildApplication(configuration: configuration, logger: Self.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                #expect(String(buffer: response.body) == OpenAPIDocument.withKeys)
                let served = try JSONValue.parse(Data(buffer: response.body))
                #expect(served["openapi"]?.stringValue?.hasPrefix("3.1.") == true)
            }
            try await client.execute(uri: "/openapi.json", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
            }
        }
    }

    /// Walks the whole API on the tiny fixture model, checking each response against the document,
    /// then requires every documented success to have been seen.
    @Test func responsesMatchTheDocument() async throws {
        let document = try Self.document()
        let auth = try AuthConfiguration(apiKeys: [Self.apiKey], required: false)
        let test = try TuningTestApp(configure: { $0.auth = auth })
        try FileManager.default.copyItem(at: try await TagFixtures.promptSetTemplate(),
                                         to: URL(fileURLWithPath: test.configuration.promptSetsDirectory).appendingPathComponent("shapes"))
        let app = try buildApplication(configuration: test.configuration,
                                   dependencies: AppDependencies(registry: test.registry, tuning: .given(test.backend)), logger: Self.logger)
        let coverage = try await app.test(.router) { raw in
            let client = OpenAPIDocumentedClient(raw, document: document, apiKey: Self.apiKey)
            try await Self.operationsRoutes(client)
            try await Self.registryRoutes(client)
            try await Self.taggingRoute(client)
            try await Self.embeddingsRoute(client)
            try await Self.datasetAndJobRoutes(client, raw: raw)
            try await Self.batchRoutes(client, raw: raw)
            return client.covered
        }
        for operation in try Self.operations(document) {
            let responses = operation.fields["responses"]?.objectValue ?? [:]
            for status in responses.keys where status.hasPrefix("2") {
                #expect(coverage.contains("\(operation.method.uppercased()) \(operation.path) \(status)"),
                        "\(operation) \(status) was never checked against a real response")
            }
        }
    }

    static func operationsRoutes(_ client: OpenAPIDocumentedClient) async throws {
        try await client.call(.get, "/healthz")
        try await client.call(.get, "/readyz")          // 503 or 200: both are documented
        try await client.client.waitUntilReady()
        #expect(try await client.call(.get, "/readyz").status == .ok)
        #expect(try await client.call(.get, "/health").status == .ok)
        let info = try await client.call(.get, "/info").body
        #expect(info?["model"]?["id"]?.stringValue == "tiny", "the default model is reported, so its schema is checked")
        #expect(try await client.call(.get, "/metrics").status == .ok)
        #expect(try await client.call(.get, "/openapi.json").status == .ok)
    }

    static func registryRoutes(_ client: OpenAPIDocumentedClient) async throws {
        #expect(try await client.call(.get, "/v1/models").status == .ok)
        #expect(try await client.call(.get, "/v1/models/{name}", "/v1/models/tiny").status == .ok)
        #expect(try await client.call(.get, "/v1/models/{name}", "/v1/models/nope").status == .notFound)
        #expect(try await client.call(.get, "/v1/prompt-sets").status == .ok)
        #expect(try await client.call(.get, "/v1/prompt-sets", "/v1/prompt-sets?model=nope").status == .notFound)
        #expect(try await client.call(.get, "/v1/prompt-sets", "/v1/prompt-sets?colour=red").status == .unprocessableContent)
        #expect(try await client.call(.get, "/v1/prompt-sets/{id}", "/v1/prompt-sets/shapes").status == .ok)
        #expect(try await client.call(.get, "/v1/prompt-sets/{id}", "/v1/prompt-sets/nope").status == .notFound)

        let patch = "/v1/prompt-sets/{id}", shapes = "/v1/prompt-sets/shapes"
        #expect(try await client.call(.patch, patch, shapes, json: ["default": true], authorized: false).status == .unauthorized)
        let changed = try await client.call(.patch, patch, shapes, json: ["thresholds": ["cat": 0.4], "default": true])
        #expect(changed.status == .ok)
        #expect(changed.body?["default"] == .bool(true))
        #expect(try await client.call(.patch, patch, shapes, json: ["thresholds": ["zebra": 0.1]]).status == .unprocessableContent)
        #expect(try await client.call(.patch, patch, shapes, contentType: "text/plain", body: Array("x".utf8)).status == .unsupportedMediaType)
        #expect(try await client.call(.patch, patch, shapes, contentType: "application/json", body: Array("{".utf8)).status == .badRequest)
        #expect(try await client.call(.patch, patch, "/v1/prompt-sets/nope", json: ["default": true]).status == .notFound)
    }

    static func taggingRoute(_ client: OpenAPIDocumentedClient) async throws {
        let png = try TagFixtures.image("png_rgb.png"), jpeg = try TagFixtures.image("jpeg_baseline_420.jpg")
        let raw = try await client.call(.post, "/v1/tag", "/v1/tag?prompt_set=shapes&top_k=2", contentType: "image/png", body: png)
        #expect(raw.status == .ok)
        #expect(raw.body?["mode"]?.stringValue == "prompt_set")

        var form = MultipartBody()
        form.addFile(name: "images", filename: "a.png", type: "image/png", data: png)
        form.addFile(name: "images", filename: "b.jpg", type: "image/jpeg", data: jpeg)
        form.addField(name: "threshold", value: "0.3")
        let multipart = try await client.call(.post, "/v1/tag", contentType: form.contentType, body: form.finished())
        #expect(multipart.status == .ok)

        let zeroShot = try await client.call(.post, "/v1/tag", json: [
            "images": [["base64": Data(jpeg).base64EncodedString()]], "classes": ["cat", "dog"], "top_k": 1,
        ])
        #expect(zeroShot.status == .ok)
        #expect(zeroShot.body?["prompt_set"] == JSONValue.null && zeroShot.body?["mode"]?.stringValue == "zero_shot")

        #expect(try await client.call(.post, "/v1/tag", contentType: "image/gif", body: [0x47, 0x49, 0x46]).status == .unsupportedMediaType)
        #expect(try await client.call(.post, "/v1/tag", contentType: "image/png", body: Array(png.prefix(40))).status == .unprocessableContent)
        #expect(try await client.call(.post, "/v1/tag", "/v1/tag?prompt_set=nope", contentType: "image/png", body: png).status == .notFound)
        #expect(try await client.call(.post, "/v1/tag", contentType: "application/json", body: Array("[".utf8)).status == .badRequest)
        #expect(try await client.call(.post, "/v1/tag", contentType: "image/png", body: png, authorized: false).status == .unauthorized)
    }

    static func embeddingsRoute(_ client: OpenAPIDocumentedClient) async throws {
        let png = try TagFixtures.image("png_rgb.png")
        let json = try await client.call(.post, "/v1/embeddings", json: [
            "input": ["a cat", ["image": Data(png).base64EncodedString()], ["text": "a dog"]], "encoding_format": "base64",
        ])
        #expect(json.status == .ok)
        #expect(json.body?["data"]?.arrayValue?.count == 3)
        #expect(try await client.call(.post, "/v1/embeddings", json: ["input": "a cat", "normalize": false]).status == .ok)
        var form = MultipartBody()
        form.addFile(name: "image", filename: "a.png", type: "image/png", data: png)
        form.addField(name: "input", value: "a cat")
        #expect(try await client.call(.post, "/v1/embeddings", contentType: form.contentType, body: form.finished()).status == .ok)

        #expect(try await client.call(.post, "/v1/embeddings", json: ["input": [[1, 2]]]).status == .unprocessableContent)
        #expect(try await client.call(.post, "/v1/embeddings", json: ["input": "a", "model": "nope"]).status == .notFound)
        #expect(try await client.call(.post, "/v1/embeddings", contentType: "text/plain", body: Array("a".utf8)).status == .unsupportedMediaType)
        #expect(try await client.call(.post, "/v1/embeddings", contentType: "application/json", body: Array("[".utf8)).status == .badRequest)
        #expect(try await client.call(.post, "/v1/embeddings", json: ["input": "a"], authorized: false).status == .unauthorized)
    }

    static func batchRoutes(_ client: OpenAPIDocumentedClient, raw: any TestClientProtocol) async throws {
        let upload = try await client.call(.post, "/v1/datasets", contentType: "application/zip",
                                           body: [UInt8](try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 4))))
        let dataset = try #require(upload.body?["id"]?.stringValue)
        let batches = "/v1/batches", batch = "/v1/batches/{id}"
        let fromDataset = try await client.call(.post, batches, json: ["dataset": dataset, "classes": ["cat", "dog"], "top_k": 1])
        #expect(fromDataset.status == .created)
        let zip = [UInt8](try DatasetFixtures.zip([("a.png", try DatasetFixtures.image("png_rgb.png")), ("b.png", Data([1, 2, 3]))]))
        let fromZip = try await client.call(.post, batches, "\(batches)?prompt_set=shapes", contentType: "application/zip", body: zip)
        #expect(fromZip.status == .created)
        let id = try #require(fromDataset.body?["id"]?.stringValue), zipID = try #require(fromZip.body?["id"]?.stringValue)
        #expect(try await client.call(.post, batches, json: ["dataset": "ds-nope"]).status == .notFound)
        #expect(try await client.call(.post, batches, json: ["dataset": dataset, "colour": "red"]).status == .unprocessableContent)
        #expect(try await client.call(.post, batches, contentType: "application/zip", body: Array("no zip".utf8)).status == .unprocessableContent)
        #expect(try await client.call(.post, batches, json: ["dataset": dataset], authorized: false).status == .unauthorized)

        _ = try await raw.waitForBatch(id)
        let finished = try await raw.waitForBatch(zipID)
        #expect(finished["image_counts"] as? [String: Int] == ["total": 2, "completed": 1, "failed": 1])
        #expect(try await client.call(.get, batch, "\(batches)/\(zipID)").body?["results"]?["csv"] != nil)
        #expect(try await client.call(.get, batches, "\(batches)?limit=1").status == .ok)
        #expect(try await client.call(.get, batch, "\(batches)/batch-nope").status == .notFound)
        let events = try await client.call(.get, "/v1/batches/{id}/events", "\(batches)/\(id)/events")
        #expect(events.status == .ok && events.body?["data"]?.arrayValue?.isEmpty == false)
        let results = "/v1/batches/{id}/results"
        #expect(try await client.call(.get, results, "\(batches)/\(zipID)/results").status == .ok)
        #expect(try await client.call(.get, results, "\(batches)/\(zipID)/results?format=csv").status == .ok)
        #expect(try await client.call(.get, results, "\(batches)/\(zipID)/results?format=xml").status == .unprocessableContent)
        #expect(try await client.call(.post, "/v1/batches/{id}/cancel", "\(batches)/\(zipID)/cancel").status == .conflict)

        // A batch queued behind a long tuning job (one job at a time): cancelled at once, no results.
        let long = try await client.call(.post, "/v1/tuning/jobs", json: JobRoutesTests.longJob(dataset: dataset))
        let queued = try await client.call(.post, batches, json: ["dataset": dataset, "prompt_set": "shapes"])
        let queuedID = try #require(queued.body?["id"]?.stringValue)
        let cancelled = try await client.call(.post, "/v1/batches/{id}/cancel", "\(batches)/\(queuedID)/cancel")
        #expect(cancelled.status == .ok && cancelled.body?["status"]?.stringValue == "cancelled")
        #expect(try await client.call(.get, results, "\(batches)/\(queuedID)/results").status == .conflict)
        let longID = try #require(long.body?["id"]?.stringValue)
        _ = try await client.call(.post, "/v1/tuning/jobs/{id}/cancel", "/v1/tuning/jobs/\(longID)/cancel")
        _ = try await raw.waitForJob(longID)
    }

    static func datasetAndJobRoutes(_ client: OpenAPIDocumentedClient,
                                    raw: any TestClientProtocol) async throws {
        let zip = [UInt8](try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 12)))
        let created = try await client.call(.post, "/v1/datasets", "/v1/datasets?name=shop", contentType: "application/zip", body: zip)
        #expect(created.status == .created)
        let dataset = try #require(created.body?["id"]?.stringValue)
        let boundary = "openapi-test-boundary"
        let form = [UInt8](DatasetFixtures.multipart(zip: Data(zip), fileName: "spare.zip", name: "spare", boundary: boundary))
        let spare = try await client.call(.post, "/v1/datasets", contentType: "multipart/form-data; boundary=\(boundary)", body: form)
        let spareID = try #require(spare.body?["id"]?.stringValue)

        var broken = try DatasetFixtures.datasetFiles(count: 4)
        broken[0].bytes = Data((#"{"image": "images/missing.jpg", "labels": ["zebra"]}"# + "\n").utf8)
        let rejected = try await client.call(.post, "/v1/datasets", contentType: "application/zip", body: [UInt8](try DatasetFixtures.zip(broken)))
        #expect(rejected.status == .unprocessableContent)
        #expect(rejected.body?["error"]?["problems"] != nil, "the rejection lists its problems")
        #expect(try await client.call(.post, "/v1/datasets", contentType: "text/plain", body: [1]).status == .unsupportedMediaType)
        #expect(try await client.call(.get, "/v1/datasets").status == .ok)
        #expect(try await client.call(.get, "/v1/datasets", "/v1/datasets?limit=0").status == .unprocessableContent)
        #expect(try await client.call(.get, "/v1/datasets", "/v1/datasets?after=ds-nope").status == .notFound)
        #expect(try await client.call(.get, "/v1/datasets/{id}", "/v1/datasets/\(dataset)").status == .ok)
        #expect(try await client.call(.get, "/v1/datasets/{id}", "/v1/datasets/ds-nope").status == .notFound)

        // A short job to success; a long one and one queued behind it, to cancel both ways.
        let jobs = "/v1/tuning/jobs", job = "/v1/tuning/jobs/{id}", cancel = "/v1/tuning/jobs/{id}/cancel"
        let short = try await client.call(.post, jobs, json: JobRoutesTests.job(dataset: dataset, epochs: 2))
        #expect(short.status == .created)
        let long = try await client.call(.post, jobs, json: JobRoutesTests.longJob(dataset: dataset))
        let queued = try await client.call(.post, jobs, json: JobRoutesTests.job(dataset: dataset, epochs: 2, extra: ["suffix": "q"]))
        let shortID = try #require(short.body?["id"]?.stringValue), longID = try #require(long.body?["id"]?.stringValue)
        let queuedID = try #require(queued.body?["id"]?.stringValue)
        let cancelled = try await client.call(.post, cancel, "/v1/tuning/jobs/\(queuedID)/cancel")
        #expect(cancelled.status == .ok && cancelled.body?["status"]?.stringValue == "cancelled")

        #expect(try await client.call(.post, jobs, json: ["model": "tiny", "dataset": dataset, "colour": "red"]).status == .unprocessableContent)
        #expect(try await client.call(.post, jobs, json: ["model": "nope", "dataset": dataset]).status == .notFound)
        #expect(try await client.call(.post, jobs, contentType: "application/json", body: Array("{".utf8)).status == .badRequest)
        #expect(try await client.call(.post, jobs, contentType: "text/plain", body: Array("{}".utf8)).status == .unsupportedMediaType)
        #expect(try await client.call(.get, jobs, "\(jobs)?limit=2").status == .ok)
        #expect(try await client.call(.get, job, "\(jobs)/ftjob-nope").status == .notFound)

        _ = try await raw.waitForJob(shortID)
        let done = try await client.call(.get, job, "\(jobs)/\(shortID)")
        #expect(done.body?["status"]?.stringValue == "succeeded", "a finished job's metrics and prompt set are checked")
        let events = try await client.call(.get, "/v1/tuning/jobs/{id}/events", "\(jobs)/\(shortID)/events?limit=100")
        let types = Set(events.body?["data"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? [])
        #expect(types == ["message", "metrics"], "both kinds of event are checked")
        #expect(try await client.call(.get, "/v1/tuning/jobs/{id}/events", "\(jobs)/\(shortID)/events?after=nope").status == .notFound)
        #expect(try await client.call(.post, cancel, "\(jobs)/\(shortID)/cancel").status == .conflict)
        let promptSet = try #require(done.body?["prompt_set"]?.stringValue)
        let tuned = try await client.call(.get, "/v1/prompt-sets/{id}", "/v1/prompt-sets/\(promptSet)")
        #expect(tuned.body?["metrics"]?["map"] != nil, "a tuned prompt set's metrics are checked")

        _ = try await raw.waitForJob(longID) { ($0["progress"] as? [String: Any])?["step"] as? Int ?? 0 > 0 }
        #expect(try await client.call(.delete, "/v1/datasets/{id}", "/v1/datasets/\(dataset)").status == .conflict)
        let requested = try await client.call(.post, cancel, "\(jobs)/\(longID)/cancel")
        #expect(requested.status == .ok && requested.body?["cancel_requested"] == .bool(true))
        _ = try await raw.waitForJob(longID)
        #expect(try await client.call(.delete, "/v1/datasets/{id}", "/v1/datasets/\(spareID)", authorized: false).status == .unauthorized)
        #expect(try await client.call(.delete, "/v1/datasets/{id}", "/v1/datasets/\(spareID)").status == .ok)
        #expect(try await client.call(.delete, "/v1/datasets/{id}", "/v1/datasets/\(spareID)").status == .notFound)
    }
}

