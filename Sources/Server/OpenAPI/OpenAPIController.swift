import Foundation
import Hummingbird

/// `GET /openapi.json`: the OpenAPI 3.1 document of this API, for clients, code generators and
/// API testers. It describes this server: without API keys configured, no operation requires
/// `Authorization` (the document's `bearerAuth` requirements are served as `security: []`).
struct OpenAPIController {
    static let path = "/openapi.json"
    var keysConfigured = true

    func register(on router: TableRouter) {
        // Built once: the document does not change while the binary runs.
        let body = ByteBuffer(string: keysConfigured ? OpenAPIDocument.withKeys : OpenAPIDocument.keyless)
        router.get(RouterPath(Self.path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
    }
}
