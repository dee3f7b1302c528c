import Hummingbird

/// `GET /openapi.json`: the OpenAPI 3.1 document of this API, for clients, code generators and
/// API testers.
struct OpenAPIController {
    static let path = "/openapi.json"
    /// Built once: the document does not change while the binary runs.
    private static let body = ByteBuffer(string: OpenAPIDocument.json)

    func register(on router: Router<TagTuneRequestContext>, routes: RouteTable) {
        router.get(RouterPath(Self.path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                     body: .init(byteBuffer: Self.body))
        }
        routes.add(Self.path, .get)
    }
}
