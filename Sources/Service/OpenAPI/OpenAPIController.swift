import Foundation
import Hummingbird

/// `GET /openapi.json`: the OpenAPI 3.1 document of this API, for clients, code generators and
/// API testers. It describes this server: without API keys configured, no operation requires
/// `Authorization` (the document's `bearerAuth` requirements are served as `security: []`).
struct OpenAPIController {
    static let path = "/openapi.json"
    var keysConfigured = true

    /// The document as served when no keys are configured.
    static let keyless: String = {
        let requirement = try! NSRegularExpression(pattern: #""security": \[\s*\{\s*"bearerAuth": \[\]\s*\}\s*\]"#)
        let json = OpenAPIDocument.json
        return requirement.stringByReplacingMatches(in: json, range: NSRange(json.startIndex..., in: json),
                                                    withTemplate: #""security": []"#)
    }()

    func register(on router: Router<TagTuneRequestContext>, routes: RouteTable) {
        // Built once: the document does not change while the binary runs.
        let body = ByteBuffer(string: keysConfigured ? OpenAPIDocument.json : Self.keyless)
        router.get(RouterPath(Self.path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
        routes.add(Self.path, .get)
    }
}
