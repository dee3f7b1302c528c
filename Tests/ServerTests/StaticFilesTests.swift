import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server

/// The web page's files: content types with charsets, caching headers, security headers, the
/// examples folder at /examples/, and nothing outside the two folders (hidden files, `..`,
/// symbolic links that leave the folder).
@Suite("Static files")
struct StaticFilesTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A public folder and an examples folder of our own, with a secret next to them.
    struct Folders {
        let root: URL
        var publicDirectory: URL { root.appendingPathComponent("public") }
        var examplesDirectory: URL { root.appendingPathComponent("examples") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-static-\(UUID().uuidString)")
            let files = FileManager.default
            for folder in ["public/js", "public/css", "public/.git", "examples"] {
                try files.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
            }
            try Data("<!doctype html><title>t</title>".utf8).write(to: root.appendingPathComponent("public/index.html"))
            try Data("export const x = 1;\n".utf8).write(to: root.appendingPathComponent("public/js/main.js"))
            try Data("body { color: black }\n".utf8).write(to: root.appendingPathComponent("public/css/page.css"))
            try Data("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8).write(to: root.appendingPathComponent("public/icon.svg"))
            try Data("[core]\n".utf8).write(to: root.appendingPathComponent("public/.git/config"))
            try Data("CONTENT-OF-THE-ENV\n".utf8).write(to: root.appendingPathComponent("public/.env"))
            try Data("CONTENT-OF-THE-SECRET\n".utf8).write(to: root.appendingPathComponent("secret.txt"))
            try files.createSymbolicLink(at: root.appendingPathComponent("public/leak.txt"),
                                         withDestinationURL: root.appendingPathComponent("secret.txt"))
            try files.createSymbolicLink(at: root.appendingPathComponent("public/up"), withDestinationURL: root)
            try Data([0x89, 0x50, 0x4E, 0x47]).write(to: root.appendingPathComponent("examples/one.png"))
            try Data(#"{"examples": []}"#.utf8).write(to: root.appendingPathComponent("examples/examples.json"))
        }

        func configuration() throws -> ServerConfiguration {
            var configuration = try ServerConfiguration.defaults
            configuration.port = 0
            configuration.publicDirectory = publicDirectory.path
            configuration.examplesDirectory = examplesDirectory.path
            configuration.dataDirectory = root.appendingPathComponent("data").path
            configuration.promptSetsDirectory = configuration.dataDirectory + "/prompt-sets"
            return configuration
        }
    }

    @Test func pageFilesHaveTheirTypesWithCharsetAndAreRevalidated() async throws {
        let folders = try Folders()
        defer { try? FileManager.default.removeItem(at: folders.root) }
        let app = try buildApplication(configuration: try folders.configuration())
        try await app.test(.router) { client in
            let expected = [
                ("/", "text/html; charset=utf-8"),
                ("/index.html", "text/html; charset=utf-8"),
                ("/js/main.js", "text/javascript; charset=utf-8"),
                ("/css/page.css", "text/css; charset=utf-8"),
                ("/icon.svg", "image/svg+xml; charset=utf-8"),
            ]
            for (uri, type) in expected {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                    #expect(response.headers[.contentType] == type, "\(uri)")
                    #expect(response.headers[.cacheControl] == "no-cache", "\(uri)")
                    #expect(response.headers[.eTag] != nil, "\(uri)")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                }
            }
            // The page's policy: its own origin only, blob: previews, no framing.
            try await client.execute(uri: "/", method: .get) { response in
                let policy = try #require(response.headers[.contentSecurityPolicy])
                #expect(policy.contains("default-src 'self'"))
                #expect(policy.contains("img-src 'self' blob:"))
                #expect(policy.contains("frame-ancestors 'none'"))
            }
            // A revalidation with the ETag costs nothing but the headers.
            let etag = try await client.execute(uri: "/js/main.js", method: .get) { $0.headers[.eTag] }
            try await client.execute(uri: "/js/main.js", method: .get, headers: [.ifNoneMatch: try #require(etag)]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func examplesAreServedReadOnlyUnderTheirOwnPath() async throws {
        let folders = try Folders()
        defer { try? FileManager.default.removeItem(at: folders.root) }
        let app = try buildApplication(configuration: try folders.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/examples/one.png", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/png")
                #expect(response.headers[.cacheControl] == "public, max-age=3600")
                #expect(Array(response.body.readableBytesView) == [0x89, 0x50, 0x4E, 0x47])
            }
            try await client.execute(uri: "/examples/examples.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(response.headers[.cacheControl] == "no-cache")
            }
            // Read-only: writing is refused, and the folder's files are not at the root.
            try await client.execute(uri: "/examples/one.png", method: .put, body: ByteBuffer(string: "x")) { response in
                #expect([.notFound, .methodNotAllowed].contains(response.status))
            }
            try await client.execute(uri: "/one.png", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/examples/../public/index.html", method: .get) { response in
                #expect([.badRequest, .notFound].contains(response.status))
            }
        }
    }

    @Test func nothingOutsideTheFoldersIsReachable() async throws {
        let folders = try Folders()
        defer { try? FileManager.default.removeItem(at: folders.root) }
        let app = try buildApplication(configuration: try folders.configuration())
        try await app.test(.router) { client in
            let refused = [
                "/.env", "/.git/config", "/js/../.env", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/../secret.txt",
                "/leak.txt", "/up/secret.txt", "/%2eenv", "//secret.txt", "/examples/../secret.txt", "/examples/%2e%2e/secret.txt",
            ]
            for uri in refused {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect([.badRequest, .notFound].contains(response.status), "\(uri)")
                    let body = String(buffer: response.body)
                    // (the 404 message names the path, so the files' contents are what must not appear)
                    #expect(!body.contains("CONTENT-OF-THE") && !body.contains("[core]"), "\(uri)")
                    #expect(body.contains(#""error""#), "\(uri): \(body)")
                }
            }
        }
    }

    @Test func theShippedPageAndExamplesAreServed() async throws {
        var configuration = try ServerConfiguration.defaults
        configuration.port = 0
        configuration.publicDirectory = Self.repository.appendingPathComponent("Public").path
        configuration.examplesDirectory = Self.repository.appendingPathComponent("demo/examples").path
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-static-\(UUID().uuidString)").path
        configuration.promptSetsDirectory = configuration.dataDirectory + "/prompt-sets"
        let app = try buildApplication(configuration: configuration)
        try await app.test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get) { String(buffer: $0.body) }
            // Every local script and stylesheet the page names is served with its type.
            let references = page.matches(of: /(?:src|href)="([a-z][a-z0-9\/._-]*\.(?:js|css|svg))"/).map { String($0.output.1) }
            #expect(references.count >= 3)
            for reference in references {
                try await client.execute(uri: "/" + reference, method: .get) { response in
                    #expect(response.status == .ok, "\(reference)")
                }
            }
            let listing = try await client.execute(uri: "/examples/examples.json", method: .get) { Data(buffer: $0.body) }
            struct Listing: Decodable { struct Example: Decodable { let file: String; let labels: [String] }; let examples: [Example] }
            let examples = try JSONDecoder().decode(Listing.self, from: listing).examples
            #expect(!examples.isEmpty)
            for example in examples {
                try await client.execute(uri: "/examples/" + example.file, method: .get) { response in
                    #expect(response.status == .ok, "\(example.file)")
                    #expect(response.headers[.contentType]?.hasPrefix("image/") == true, "\(example.file)")
                }
            }
        }
    }
}
