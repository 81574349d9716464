import DefenderHummingbird
import Hummingbird
import HummingbirdRouter
import HummingbirdTesting
import NIOCore
import Testing

/// `DefenderLoginMiddleware` protects its routes whatever router the app builds them with: the classic `Router`
/// (case-sensitive or not) and the result-builder `RouterBuilder` (top level or in a `RouteGroup`), a route with
/// parameters whose names have capitals, requested in every spelling the router accepts. Under `RouterBuilder` it
/// once protected nothing — that router runs middleware before it matches a route, so the matched route was unset
/// (or a group's prefix) — and a case-insensitive router's camel-case parameter hid its route too.
@Suite struct HummingbirdRouterShapeTests {
    struct BuilderContext: DefenderRequestContext, RouterRequestContext {
        var coreContext: CoreRequestContextStorage
        var routerContext: RouterBuilderContext
        var defender = DefenderRequestValues()
        let remoteAddress: SocketAddress?
        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            routerContext = .init()
            remoteAddress = source.channel.remoteAddress
        }
        var requestDecoder: DefenderRequestDecoder { DefenderRequestDecoder() }
    }

    /// A route as registered, and the spellings a client may use for it.
    struct Route: Sendable, CustomStringConvertible {
        let registered: String
        let spellings: [String]
        var description: String { registered }
    }

    static let routes = [
        Route(registered: "/login", spellings: ["/login", "/login/", "//login", "/login"]),
        Route(registered: "/Users/{userName}/Login", spellings: ["/Users/alice/Login", "/Users/alice/Login/", "//Users//alice/Login", "/Users/x/Login"]),
    ]

    /// Four failures for one username from one address, through `paths`: three answered by the handler (401),
    /// the fourth locked (403).
    static func expectLocks(_ app: some ApplicationProtocol, _ spellings: [String], _ shape: String) async throws {
        try await app.test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for path in spellings {
                let response = try await client.execute(
                    uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "username=alice&password=guess"))
                statuses.append(response.status)
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .forbidden], "\(shape): \(statuses)")
        }
    }

    @Test(arguments: routes, [false, true]) func classicRouter(_ route: Route, caseInsensitive: Bool) async throws {
        let defender = try HummingbirdDefender(configuration: .fromEnvironment([:]))
        let router = Router(context: BasicDefenderRequestContext.self, options: caseInsensitive ? .caseInsensitive : [])
        router.add(middleware: DefenderLoginMiddleware(defender, paths: [route.registered]))
        router.post(RouterPath(route.registered)) { _, _ in Response(status: .unauthorized) }
        let spellings = caseInsensitive ? route.spellings.map { $0.uppercased() } : route.spellings
        try await Self.expectLocks(Application(router: router), spellings, "Router \(caseInsensitive ? "case-insensitive" : "")")
    }

    @Test(arguments: routes, [false, true]) func resultBuilderRouter(_ route: Route, caseInsensitive: Bool) async throws {
        let defender = try HummingbirdDefender(configuration: .fromEnvironment([:]))
        let router = RouterBuilder(context: BuilderContext.self, options: caseInsensitive ? .caseInsensitive : []) {
            DefenderLoginMiddleware<BuilderContext>(defender, paths: [route.registered])
            Post(RouterPath(route.registered)) { _, _ in Response(status: .unauthorized) }
        }
        let spellings = caseInsensitive ? route.spellings.map { $0.uppercased() } : route.spellings
        try await Self.expectLocks(Application(router: router), spellings, "RouterBuilder")
    }

    @Test(arguments: routes) func resultBuilderRouteGroup(_ route: Route) async throws {
        let defender = try HummingbirdDefender(configuration: .fromEnvironment([:]))
        let router = RouterBuilder(context: BuilderContext.self) {
            RouteGroup("auth") {
                DefenderLoginMiddleware<BuilderContext>(defender, paths: ["/auth" + route.registered])
                Post(RouterPath(route.registered)) { _, _ in Response(status: .unauthorized) }
            }
        }
        try await Self.expectLocks(Application(router: router), route.spellings.map { "/auth" + $0 }, "RouteGroup")
    }

    /// A request to another route is not touched: its failures are nobody's.
    @Test func otherRoutesAreNotProtected() async throws {
        let defender = try HummingbirdDefender(configuration: .fromEnvironment([:]))
        let router = RouterBuilder(context: BuilderContext.self) {
            DefenderLoginMiddleware<BuilderContext>(defender, paths: ["/login"])
            Post("login/help") { _, _ in Response(status: .unauthorized) }
            Post("loginx") { _, _ in Response(status: .unauthorized) }
        }
        try await Application(router: router).test(.router) { client in
            for path in ["/login/help", "/loginx", "/login/help", "/loginx", "/login/help"] {
                let response = try await client.execute(
                    uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "username=alice&password=guess"))
                #expect(response.status == .unauthorized, "\(path)")
            }
        }
        #expect(try await defender.engine.store.state(of: defender.engine.usernameKey("alice")).failures == 0)
    }
}
