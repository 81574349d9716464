import DefenderHTTP
import Vapor

/// The operator's pages and JSON API (`GET /admin/defender`, `/admin/defender/api/{blocks,unblock,block,attempts,denylist}`),
/// mounted in a Vapor app: blocked IPs and usernames with time left and lockout counts, block and unblock forms,
/// the stored deny list, recent attempts with filters and paging. The pages and rules are `DefenderHTTP`'s, the
/// same in every framework; this type only mounts them.
///
/// Only administrators get in: the app says who is one with `authorize`. HTML forms carry a CSRF token kept in
/// the session and are refused without it; JSON POSTs need `Content-Type: application/json`, and with a session
/// the `X-CSRF-Token` header (printed in the page's `<meta name="csrf-token">`).
///
/// ```swift
/// DefenderAdmin { req in
///     guard let user = req.auth.get(User.self) else { return .anonymous }
///     return user.isAdmin ? .sessionAdmin(user.username) : .forbidden
/// }.register(on: app.grouped(app.sessions.middleware, User.sessionAuthenticator()))
/// ```
public struct DefenderAdmin: Sendable {
    /// Who is asking.
    public typealias Access = DefenderAdminAccess

    /// Decides whether a request may use the admin (an authenticated administrator only).
    public typealias Authorize = @Sendable (Request) async throws -> Access

    /// Where anonymous visitors of the page are sent (with `?next=` back to the page).
    public var loginPath: String
    /// Rows per page of attempts.
    public var pageSize: Int
    /// Blocks per page of each kind.
    public var blockPageSize: Int
    let authorize: Authorize

    /// The admin: where to send a visitor who is not signed in, how many rows a page shows, and who may use it.
    public init(loginPath: String = "/login", pageSize: Int = 50, blockPageSize: Int = 100, authorize: @escaping Authorize) {
        self.loginPath = loginPath
        self.pageSize = pageSize
        self.blockPageSize = blockPageSize
        self.authorize = authorize
    }

    /// Adds the page, its form handlers and the API under `path` (default `admin/defender`) of `routes`, which may
    /// itself be a group with a prefix: every link and form of the page follows the path it is mounted at. The
    /// routes need the sessions middleware (for the CSRF token) in front of them.
    public func register(on routes: any RoutesBuilder, at path: PathComponent...) {
        let admin = routes.grouped(path.isEmpty ? ["admin", "defender"] : path)
        for route in AdminRoute.allCases {
            admin.on(route.isPost ? .POST : .GET, route.path.map { .constant($0) }) { req in try await respond(req, route) }
        }
    }

    func respond(_ req: Request, _ route: AdminRoute) async throws -> Response {
        let app = req.application.defender
        let handler = AdminHandler(
            loginPath: loginPath, pageSize: pageSize, blockPageSize: blockPageSize, operations: try app.operations(),
            templates: try app.templatesInForce())
        let matched = req.route.map(DefenderLoginMiddleware.servedComponents) ?? (["admin", "defender"] + route.path)
        let request = AdminRequest(
            route: route, base: AdminRequest.base(matched: matched, route: route), query: req.url.query,
            contentType: req.headers[.contentType], csrfHeader: req.headers["X-CSRF-Token"],
            body: req.body.data.map { Array($0.readableBytesView) } ?? [], access: try await authorize(req))
        return Response(try await handler.respond(to: request) { create in Self.csrfToken(req, create: create) })
    }

    static let csrfKey = "_defender_csrf"

    /// The session's token; a new one is made for the page (`create`), never for a POST.
    static func csrfToken(_ req: Request, create: Bool) -> String? {
        if let token = req.session.data[csrfKey] { return token }
        guard create else { return nil }
        let token = AdminHandler.makeCSRFToken()
        req.session.data[csrfKey] = token
        return token
    }
}
