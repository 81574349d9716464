import DefenderHTTP
import Hummingbird

/// The unlock link's pages, `GET` and `POST /unlock/<token>` (see `UnlockHandler`), mounted in a Hummingbird app.
///
/// ```swift
/// DefenderUnlockRoutes(defender).register(on: router)
/// ```
public struct DefenderUnlockRoutes: Sendable {
    let defender: HummingbirdDefender
    /// The sign-in page the "unlocked" page links to.
    public var loginPath: String

    /// The routes of `defender`; the "unlocked" page links to `loginPath`.
    public init(_ defender: HummingbirdDefender, loginPath: String = "/login") {
        self.defender = defender
        self.loginPath = loginPath
    }

    /// Adds `GET` and `POST` `<path>/:token` (default `unlock/:token`) to `router`.
    public func register<Context: RequestContext>(on router: some RouterMethods<Context>, at path: String = "unlock") {
        let handler = UnlockHandler(defender: defender.engine, templates: defender.runtime.templates, loginPath: loginPath)
        for method in [HTTPRequest.Method.get, .post] {
            router.on(RouterPath(path + "/:token"), method: method) { _, context in
                Response(await handler.respond(token: context.parameters.get("token") ?? "", redeem: method == .post))
            }
        }
    }
}
