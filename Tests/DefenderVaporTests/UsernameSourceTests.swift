import DefenderTesting
import DefenderVapor
import MetricsTestKit
import Testing
import Vapor
import VaporTesting

/// Where each route reads the username is a property of the route (`watchLogin(usernameFrom:)`,
/// `DefenderLoginMiddleware(usernameFrom:)`); the app-wide `usernameSource` is only the default. A route whose
/// source reads nothing from a login that succeeds is reported (a metric, a warning), never silently counted by
/// address alone — the trap a newcomer fell into with one global setting for a form and a JSON route.
@Suite struct UsernameSourceTests {
    static let withoutUsername = "defender_logins_without_username_total"

    /// An app whose default source is a path parameter (right for `/users/:name/login`), with a form route that
    /// says where its username is, one that does not, a route that counts addresses only on purpose, and the
    /// middleware with its own source. Only usernames are counted (IP lockout off), so a lock shows that the
    /// username was read.
    func withRoutes(_ test: (Application, TestMetrics) async throws -> Void) async throws {
        try await withApp { (app) async throws in
            var config = DefenderConfiguration()
            config.disableIPLockout = true
            config.usernameSource = .pathParameter("name")
            app.defender.configuration = config
            app.defender.clock = ManualClock()
            let metrics = TestMetrics()
            app.defender.metricsFactory = metrics
            app.logger.logLevel = .error
            @Sendable func answer(_ req: Request, _ name: String?) -> Response {
                name == "alice" && req.defender.formField("password") == "right" ? req.redirect(to: "/") : Response(status: .unauthorized)
            }
            app.post("users", ":name", "login") { req in try await req.defender.watchLogin { answer(req, $0) } }
            app.post("form-login") { req in try await req.defender.watchLogin(usernameFrom: .formField) { answer(req, $0) } }
            // Checks the form's username itself, as an app would, while Defender reads the (absent) path parameter.
            app.post("login") { req in try await req.defender.watchLogin { _ in answer(req, req.defender.formField("username")) } }
            app.post("code-login") { req in
                try await req.defender.watchLogin(usernameFrom: .ipOnly) { _ in
                    req.defender.formField("code") == "123456" ? req.redirect(to: "/") : Response(status: .unauthorized)
                }
            }
            app.grouped(DefenderLoginMiddleware(paths: ["/mw-login"], usernameFrom: .formField)).post("mw-login") { req in
                answer(req, req.defender.formField("username"))
            }
            try await test(app, metrics)
        }
    }

    func post(_ app: Application, _ path: String, _ body: String) async throws -> HTTPStatus {
        try await app.testing().sendRequest(
            .POST, path, headers: ["Content-Type": "application/x-www-form-urlencoded"], body: ByteBuffer(string: body)
        ).status
    }

    @Test func eachRouteReadsItsOwnSource() async throws {
        try await withRoutes { (app, metrics) async throws in
            for _ in 0..<3 { #expect(try await post(app, "/form-login", "username=alice&password=wrong") == .unauthorized) }
            #expect(try await post(app, "/form-login", "username=alice&password=wrong") == .forbidden)  // the form's username, counted
            // The same account through the route that reads the path (the app's default): locked too.
            #expect(try await post(app, "/users/alice/login", "password=right") == .forbidden)
            #expect(try await post(app, "/mw-login", "username=alice&password=right") == .forbidden)
            #expect(try await post(app, "/users/bob/login", "password=right") == .unauthorized)
            #expect(metrics.counterTotal(label: Self.withoutUsername) == 0)
        }
        try await withRoutes { (app, _) async throws in
            for _ in 0..<4 { _ = try await post(app, "/users/carol/login", "password=wrong") }
            #expect(try await post(app, "/form-login", "username=carol&password=x") == .forbidden)  // the path's username, counted
            for _ in 0..<4 { _ = try await post(app, "/mw-login", "username=dave&password=wrong") }
            #expect(try await post(app, "/form-login", "username=dave&password=x") == .forbidden)
        }
    }

    /// `/login` inherits the path source but posts a form: every success there is counted in the metric (a
    /// failure is not: an attacker could send those at will); a route that reads no username on purpose is not.
    @Test func aRouteThatReadsNoUsernameIsReported() async throws {
        try await withRoutes { (app, metrics) async throws in
            #expect(try await post(app, "/login", "username=alice&password=wrong") == .unauthorized)
            #expect(metrics.counterTotal(label: Self.withoutUsername) == 0)
            #expect(try await post(app, "/login", "username=alice&password=right") == .seeOther)
            #expect(try await post(app, "/login", "username=alice&password=right") == .seeOther)
            #expect(metrics.counterTotal(label: Self.withoutUsername) == 2)
            #expect(try await post(app, "/code-login", "code=123456") == .seeOther)
            #expect(try await post(app, "/form-login", "username=alice&password=right") == .seeOther)
            #expect(metrics.counterTotal(label: Self.withoutUsername) == 2)
        }
    }

    /// An app whose own source is `ipOnly` counts addresses alone on every route that does not say otherwise: the
    /// username its form posts is neither handed over nor counted, and a success is not reported as a route that
    /// reads the wrong place. (Vapor read the form's `username` here, unlike Hummingbird: the rule now lives once,
    /// in `DefenderHTTP`'s `UsernameReading`.)
    @Test func anAppThatCountsAddressesOnlyReadsNoUsername() async throws {
        try await withApp { (app) async throws in
            var config = DefenderConfiguration()
            config.usernameSource = .ipOnly
            config.disableIPLockout = true  // only a username could lock
            app.defender.configuration = config
            app.defender.clock = ManualClock()
            let metrics = TestMetrics()
            app.defender.metricsFactory = metrics
            app.logger.logLevel = .error
            app.post("login") { req in
                try await req.defender.watchLogin { name in
                    #expect(name == nil)
                    return req.defender.formField("password") == "right" ? req.redirect(to: "/") : Response(status: .unauthorized)
                }
            }
            for _ in 0..<5 { #expect(try await post(app, "/login", "username=alice&password=wrong") == .unauthorized) }
            #expect(try await post(app, "/login", "username=alice&password=right") == .seeOther)
            let engine = try app.defender.engine()
            #expect(try await engine.store.state(of: engine.usernameKey("alice")).failures == 0)
            #expect(metrics.counterTotal(label: Self.withoutUsername) == 0)
        }
    }
}
