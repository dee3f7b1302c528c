import Foundation
import Hummingbird
import Logging

/// The web page's files: `server.public_dir` at `/`, and the shipped example images
/// (`web.examples_dir`, `demo/examples` by default) read-only at `/examples/`, so the page can
/// offer them without a copy in `Public/` that would drift from the ones the demo scripts write.
enum StaticFiles {
    /// Where the examples folder is served.
    static let examplesPath = "/examples"

    /// The page has no build step, so its files keep their names from one version to the next:
    /// browsers may store them but must revalidate (a 304 with the same ETag costs one round trip),
    /// so a new version is seen at once. Example images change only with a release: an hour.
    static let pageCaching = CacheControl([(MediaType(type: .any), [.noCache])])
    static let exampleCaching = CacheControl([
        (MediaType(type: .image), [.public, .maxAge(3600)]),
        (MediaType(type: .any), [.noCache]),
    ])

    /// Text types with their charset, so no browser has to guess it.
    static let textTypes: [String: MediaType] = [
        "html": MediaType(type: .text, subType: "html", parameter: ("charset", "utf-8")),
        "js": MediaType(type: .text, subType: "javascript", parameter: ("charset", "utf-8")),
        "mjs": MediaType(type: .text, subType: "javascript", parameter: ("charset", "utf-8")),
        "css": MediaType(type: .text, subType: "css", parameter: ("charset", "utf-8")),
        "json": MediaType(type: .application, subType: "json", parameter: ("charset", "utf-8")),
        "svg": MediaType(type: .image, subType: "svg+xml", parameter: ("charset", "utf-8")),
        "txt": MediaType(type: .text, subType: "plain", parameter: ("charset", "utf-8")),
    ]

    /// Only this origin's scripts, styles, requests and images (plus `blob:` images: the previews
    /// of photos picked on the page); no plugins, no framing. Hummingbird's middleware also sends
    /// `X-Content-Type-Options: nosniff`, so no JSON or image body is ever run as a script.
    static let contentSecurityPolicy: ContentSecurityPolicy = [
        .defaultSrc(.self), .imgSrc(.self, "blob:"), .objectSrc(.none), .baseURI(.none),
        .formAction(.self), .frameAncestors(.none),
    ]

    /// Adds the security headers and a file middleware for each folder that exists.
    static func add(to router: Router<TagTuneRequestContext>, configuration: ServerConfiguration, logger: Logger) {
        router.add(middleware: ContentSecurityMiddleware(contentSecurityPolicy: contentSecurityPolicy))
        if FileManager.default.fileExists(atPath: configuration.publicDirectory) {
            router.add(middleware: FileMiddleware(
                fileProvider: ContainedFolder(configuration.publicDirectory, logger: logger),
                cacheControl: pageCaching, searchForIndexHtml: true)
                .withAdditionalMediaTypes(forFileExtensions: textTypes))
        } else {
            logger.warning("no static folder", metadata: ["public_dir": "\(configuration.publicDirectory)"])
        }
        if FileManager.default.fileExists(atPath: configuration.examplesDirectory) {
            router.add(middleware: FileMiddleware(
                fileProvider: ContainedFolder(configuration.examplesDirectory, logger: logger),
                urlBasePath: examplesPath, cacheControl: exampleCaching)
                .withAdditionalMediaTypes(forFileExtensions: textTypes))
        } else {
            logger.info("no examples folder; the page offers no shipped examples",
                        metadata: ["examples_dir": "\(configuration.examplesDirectory)"])
        }
    }
}
