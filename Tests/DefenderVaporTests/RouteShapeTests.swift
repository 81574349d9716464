import DefenderVapor
import Testing
import Vapor
import VaporTesting

/// `DefenderLoginMiddleware` matches a route as Vapor serves it. A route registered with empty parts (an empty
/// group prefix from the environment, `post("")`) is served at `/login`, but `request.route` keeps the empty parts:
/// read as they were, its path was `//login` or `/login/`, matched no protected path, and every login went through
/// uncounted.
@Suite struct RouteShapeTests {
    struct Shape: Sendable, CustomStringConvertible {
        let description: String
        let register: @Sendable (Application, @escaping @Sendable (Request) async throws -> Response) -> Void
    }

    static let shapes: [Shape] = [
        Shape(description: #"post("login")"#) { app, handler in app.post("login", use: handler) },
        Shape(description: #"grouped("").post("login")"#) { app, handler in app.grouped("").post("login", use: handler) },
        Shape(description: #"grouped("login").post("")"#) { app, handler in app.grouped("login").post("", use: handler) },
        Shape(description: #"grouped("", "").grouped("login", "").post("")"#) { app, handler in
            app.grouped("", "").grouped("login", "").post("", use: handler)
        },
        Shape(description: #"on(.POST, ["", "login", ""])"#) { app, handler in app.on(.POST, ["", "login", ""], use: handler) },
    ]

    @Test(arguments: shapes) func middlewareProtectsTheRouteAsServed(_ shape: Shape) async throws {
        try await withApp { (app) async throws in
            app.logger.logLevel = .error
            app.middleware.use(DefenderLoginMiddleware(paths: ["/login"]))
            shape.register(app) { _ in Response(status: .unauthorized) }
            var statuses: [HTTPStatus] = []
            for path in ["/login", "/login/", "//login", "/login"] {
                statuses.append(try await app.testing().sendRequest(
                    .POST, path, headers: ["Content-Type": "application/x-www-form-urlencoded"], body: ByteBuffer(string: "username=alice&password=x")
                ).status)
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .forbidden], "\(shape): \(statuses)")
        }
    }
}
