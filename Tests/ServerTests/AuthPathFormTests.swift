import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import Server

/// API keys hold on every spelling of a path that the router sends to a `/v1` route: repeated
/// slashes (`//v1`, `///v1`, `/v1//tag`) and the absolute form (`http://host//v1/…`). The probe of
/// 2026-12 found them all open: the check read the raw path, the router skips empty segments.
@Suite("API keys on every path form")
struct AuthPathFormTests {
    static let key = AuthTests.keys[0]

    /// Every mutating route the router serves (tuning routes included), with `{param}` filled in.
    static func mutatingRoutes(_ test: TuningTestApp) throws -> [(method: HTTPRequest.Method, path: String)] {
        let routes = RouteTable()
        let dependencies = AppDependencies(registry: test.registry, tuning: .given(test.backend))
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        _ = try buildRouter(configuration: test.configuration, dependencies: dependencies,
                        inference: try AppComponents(configuration: test.configuration, dependencies: dependencies, logger: logger),
                        routes: routes, logger: logger)
        return routes.entries.filter { APIKeyMiddleware.mutatingMethods.contains($0.method) }.map { entry in
            let path = RouteTable.segments(of: entry.template)
                .map { $0.hasPrefix("{") ? "x" : String($0) }.joined(separator: "/")
            return (entry.method, "/" + path)
        }
    }

    static func keyed(_ configuration: inout ServerConfiguration) {
        configuration.auth = try! AuthConfiguration(apiKeys: [key], required: true)
    }

    @Test func repeatedSlashesAndAbsoluteFormStillNeedAKey() async throws {
        let test = try TuningTestApp(configure: Self.keyed)
        let routes = try Self.mutatingRoutes(test)
        #expect(Set(routes.map(\.path)).isSuperset(of: ["/v1/tag", "/v1/datasets", "/v1/datasets/x", "/v1/tuning/jobs",
                                                        "/v1/tuning/jobs/x/cancel", "/v1/prompt-sets/x"]))
        try await test.application().test(.router) { client in
            for route in routes {
                let rest = route.path.dropFirst("/v1".count)
                for uri in ["/" + route.path, "//" + route.path, "/v1/" + rest, route.path + "/",
                            "http://127.0.0.1/" + route.path, "http://127.0.0.1" + route.path] {
                    let response = try await client.execute(uri: uri, method: route.method,
                                                            headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
                    #expect(response.status == .unauthorized, "\(route.method) \(uri): \(String(buffer: response.body))")
                    #expect(try DatasetFixtures.error(response.body)["code"] as? String == "missing_api_key")
                }
            }
            #expect(test.folder.storedDatasets.isEmpty, "nothing was created")
        }
    }

    @Test func repeatedSlashesReachTheRouteWithAKey() async throws {
        let test = try TuningTestApp(configure: Self.keyed)
        try await test.application().test(.router) { client in
            let zip = try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 3))
            let response = try await client.execute(uri: "//v1//datasets", method: .post,
                                                    headers: [.contentType: "application/zip", .authorization: "Bearer \(Self.key)"],
                                                    body: ByteBuffer(bytes: zip))
            #expect(response.status == .created, "\(String(buffer: response.body))")
        }
    }

    /// A method a known path does not serve is 405 with `Allow`, key or not: the key check is for
    /// requests that reach a handler.
    @Test func unservedMethodsAre405EvenWithKeys() async throws {
        let test = try TuningTestApp(configure: Self.keyed)
        try await test.application().test(.router) { client in
            for uri in ["/v1/models", "/v1/datasets", "/v1/prompt-sets", "/v1/tuning/jobs/x", "//v1/models/x", "/v1/tuning/jobs/x/events"] {
                let response = try await client.execute(uri: uri, method: .put)
                #expect(response.status == .methodNotAllowed, "PUT \(uri): \(String(buffer: response.body))")
                #expect(response.headers[.allow] != nil)
            }
        }
    }

    /// The served document requires `Authorization` exactly when this server checks keys.
    @Test func servedDocumentRequiresAuthorizationOnlyWithKeys() async throws {
        for keyed in [false, true] {
            let test = try TuningTestApp(configure: keyed ? Self.keyed : { _ in })
            try await test.application().test(.router) { client in
                let document = try DatasetFixtures.json(try await client.execute(uri: "/openapi.json", method: .get).body)
                let paths = try #require(document["paths"] as? [String: [String: Any]])
                for (path, operations) in paths {
                    for (method, operation) in operations {
                        guard let operation = operation as? [String: Any], let security = operation["security"] as? [Any] else { continue }
                        #expect(security.isEmpty == !keyed, "keyed \(keyed): \(method) \(path) security \(security)")
                    }
                }
                let tag = try #require(paths["/v1/tag"]?["post"] as? [String: Any])
                #expect(tag["security"] != nil)
            }
        }
    }
}
