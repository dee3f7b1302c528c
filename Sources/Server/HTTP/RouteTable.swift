import Hummingbird
import NIOConcurrencyHelpers

/// The routes the router serves, by path template, so a request for a known path with
/// another method is answered 405 with `Allow` (Hummingbird's router answers 404 for it).
/// A class, filled while the router is built, because middleware must be added before the routes.
public final class RouteTable: Sendable {
    private let table = NIOLockedValueBox<[(template: String, segments: [Substring], method: HTTPRequest.Method)]>([])

    public init() {}

    func add(_ template: String, _ method: HTTPRequest.Method) {
        table.withLockedValue { $0.append((template, template.split(separator: "/"), method)) }
    }

    /// Every (method, path template) added, in the order added: what the OpenAPI document must describe.
    var entries: [(method: HTTPRequest.Method, template: String)] {
        table.withLockedValue { $0.map { ($0.method, $0.template) } }
    }

    /// A path's segments as the router matches them: Hummingbird's trie skips empty segments, so
    /// `//v1///tag` is routed to `/v1/tag`; every decision about a route must split the same way.
    static func segments(of path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// The methods registered for a concrete path (`{param}` segments match anything).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = Self.segments(of: path)
        var found: [HTTPRequest.Method] = []
        let routes = table.withLockedValue { $0 }
        for route in routes where route.segments.count == parts.count {
            let matches = zip(route.segments, parts).allSatisfy { template, part in
                (template.hasPrefix("{") && template.hasSuffix("}")) || template == part
            }
            if matches && !found.contains(route.method) { found.append(route.method) }
        }
        return found
    }
}

/// The router as controllers see it: a route is added to Hummingbird's router and to the route
/// table in the same call, so each path is written once (the 405 answers, the API-key check and
/// the OpenAPI route test read the table).
struct TableRouter: RouterMethods {
    typealias Context = TagTuneRequestContext
    let router: Router<Context>
    let table: RouteTable

    @discardableResult
    func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self
    where Responder.Context == Context {
        router.on(path, method: method, responder: responder)
        table.add(path.description, method)
        return self
    }

    @discardableResult
    func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }
}
