import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing
@testable import Server

/// A test client that checks every response against the OpenAPI document: the status must be
/// documented for the operation, the Content-Type must be one of that response's media types,
/// and a JSON body must conform to its schema. It records which (operation, status) pairs were
/// seen, so a test can tell which documented successes were never checked.
struct OpenAPIDocumentedClient {
    let client: any TestClientProtocol
    let document: JSONValue
    /// Sent on every request unless `authorized: false`.
    let apiKey: String
    private let seen = NIOLockedValueBox<Set<String>>([])

    init(_ client: any TestClientProtocol, document: JSONValue, apiKey: String) {
        self.client = client
        self.document = document
        self.apiKey = apiKey
    }

    /// "GET /v1/models/{name} 200" for every checked response.
    var covered: Set<String> { seen.withLockedValue { $0 } }

    /// Sends the request to `path` (the template itself when nil), checks the response against
    /// the operation at `template`, and returns its status and JSON body (nil for other media types).
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ template: String, _ path: String? = nil, contentType: String? = nil,
              body: [UInt8]? = nil, json: Any? = nil, authorized: Bool = true,
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> (status: HTTPResponse.Status, body: JSONValue?) {
        var headers: HTTPFields = [:]
        if authorized { headers[.authorization] = "Bearer \(apiKey)" }
        var bytes = body
        if let json {
            bytes = [UInt8](try JSONSerialization.data(withJSONObject: json))
            headers[.contentType] = "application/json"
        }
        if let contentType { headers[.contentType] = contentType }
        let response = try await client.execute(uri: path ?? template, method: method, headers: headers,
                                                body: bytes.map { ByteBuffer(bytes: $0) })
        let parsed = try check(response, method: method, template: template, sourceLocation: sourceLocation)
        return (response.status, parsed)
    }

    private func check(_ response: TestResponse, method: HTTPRequest.Method, template: String,
                       sourceLocation: SourceLocation) throws -> JSONValue? {
        let label = "\(method.rawValue) \(template) \(response.status.code)"
        let schemas = OpenAPISchemaCheck(document: document)
        let operation = try #require(document["paths"]?[template]?[method.rawValue.lowercased()],
                                     "\(method.rawValue) \(template) is not in the document", sourceLocation: sourceLocation)
        var documented = try #require(operation["responses"]?[String(response.status.code)],
                                      "\(label) is not documented; body: \(String(buffer: response.body).prefix(300))",
                                      sourceLocation: sourceLocation)
        if let reference = documented["$ref"]?.stringValue {
            documented = try #require(schemas.resolve(reference), "\(reference) resolves to nothing", sourceLocation: sourceLocation)
        }
        seen.withLockedValue { _ = $0.insert(label) }
        let mediaType = response.headers[.contentType].map(HeaderValue.init(parsing:))?.value
        guard let content = documented["content"]?.objectValue else {
            #expect(response.body.readableBytes == 0, "\(label): a body the document does not describe", sourceLocation: sourceLocation)
            return nil
        }
        let type = try #require(mediaType, "\(label): no Content-Type", sourceLocation: sourceLocation)
        let media = try #require(content[type], "\(label): Content-Type \(type) is not documented (\(content.keys.sorted()))",
                                 sourceLocation: sourceLocation)
        guard type == "application/json" else { return nil }
        let value = try JSONValue.parse(Data(buffer: response.body))
        if let schema = media["schema"] {
            let problems = schemas.problems(value, schema)
            #expect(problems.isEmpty, "\(label) does not match the document:\n\(problems.joined(separator: "\n"))",
                    sourceLocation: sourceLocation)
        }
        return value
    }
}
