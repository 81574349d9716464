import DefenderHTTP
import Vapor

/// The unlock link's pages, `GET` and `POST /unlock/<token>` (see `UnlockHandler`), mounted in a Vapor app.
///
/// ```swift
/// DefenderUnlockRoutes().register(on: app)
/// ```
public struct DefenderUnlockRoutes: Sendable {
    /// The sign-in page the "unlocked" page links to.
    public var loginPath: String

    /// The routes; the "unlocked" page links to `loginPath`.
    public init(loginPath: String = "/login") {
        self.loginPath = loginPath
    }

    /// Adds `GET` and `POST` `<path>/:token` (default `unlock/:token`) to `routes`.
    public func register(on routes: any RoutesBuilder, at path: PathComponent...) {
        let unlock = routes.grouped(path.isEmpty ? ["unlock"] : path)
        for method in [HTTPMethod.GET, .POST] {
            unlock.on(method, ":token") { req in
                let handler = UnlockHandler(
                    defender: try req.application.defender.engine(), templates: try req.application.defender.templatesInForce(),
                    loginPath: loginPath)
                return Response(await handler.respond(token: req.parameters.get("token") ?? "", redeem: method == .POST))
            }
        }
    }
}
