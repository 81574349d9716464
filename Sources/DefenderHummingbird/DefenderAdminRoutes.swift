import DefenderHTTP
import Hummingbird
import HummingbirdAuth
import HTTPTypes
import NIOCore

/// A session that can keep the admin's CSRF token: conform the app's session type to it.
public protocol DefenderAdminSession: Codable, Sendable {
    /// The token the admin page's forms carry; `nil` until the page is first shown.
    var defenderCSRFToken: String? { get set }
}

/// The operator's pages and JSON API (`GET /admin/defender`, `/admin/defender/api/{blocks,unblock,block,attempts,denylist}`)
/// mounted in a Hummingbird router: the same pages, forms, API and rules as in every integration (`DefenderHTTP`'s).
///
/// Only administrators get in: the app says who is one with `authorize`. HTML forms carry a CSRF token kept in the
/// session (`DefenderAdminSession`); JSON POSTs need `Content-Type: application/json`, and with a session the
/// `X-CSRF-Token` header printed in the page's `<meta name="csrf-token">`.
///
/// ```swift
/// DefenderAdminRoutes(defender) { _, context in
///     guard let user = context.identity else { return .anonymous }
///     return user.isAdmin ? .sessionAdmin(user.name) : .forbidden
/// }.register(on: router.group().add(middleware: sessionAuthenticator))
/// ```
public struct DefenderAdminRoutes<Context: DefenderRequestContext & SessionRequestContext>: Sendable where Context.Session: DefenderAdminSession {
    /// Decides whether a request may use the admin (an authenticated administrator only).
    public typealias Authorize = @Sendable (Request, Context) async throws -> DefenderAdminAccess

    let defender: HummingbirdDefender
    let loginPath: String
    let pageSize: Int
    let blockPageSize: Int
    let authorize: Authorize

    /// - Parameters:
    ///   - defender: Defender.
    ///   - loginPath: where anonymous visitors of the page are sent (with `?next=` back to the page).
    ///   - pageSize: rows per page of attempts.
    ///   - blockPageSize: blocks per page of each kind.
    ///   - authorize: who is asking.
    public init(
        _ defender: HummingbirdDefender, loginPath: String = "/login", pageSize: Int = 50, blockPageSize: Int = 100,
        authorize: @escaping Authorize
    ) {
        self.defender = defender
        self.loginPath = loginPath
        self.pageSize = pageSize
        self.blockPageSize = blockPageSize
        self.authorize = authorize
    }

    /// Adds the page, its forms and the API under `path` of `router` (which may be a group with a prefix): every
    /// link and form follows the path the admin is mounted at.
    public func register(on router: some RouterMethods<Context>, at path: String = "admin/defender") {
        for route in AdminRoute.allCases {
            let full = ([path] + route.path).joined(separator: "/")
            router.on(RouterPath(full), method: route.isPost ? .post : .get) { request, context in
                try await respond(request, context: context, route: route)
            }
        }
    }

    func respond(_ request: Request, context: Context, route: AdminRoute) async throws -> Response {
        var request = request
        let handler = AdminHandler(
            loginPath: loginPath, pageSize: pageSize, blockPageSize: blockPageSize, operations: defender.runtime.operations(),
            templates: defender.runtime.templates)
        let matched = (context.endpointPath ?? "").split(separator: "/").map(String.init)
        let body = route.isPost ? Array(buffer: try await request.collectBody(upTo: context.maxUploadSize)) : []
        let adminRequest = AdminRequest(
            route: route, base: AdminRequest.base(matched: matched, route: route), query: request.uri.query,
            contentType: request.headers[values: .contentType], csrfHeader: request.headers[values: HTTPField.Name("X-CSRF-Token")!],
            body: body,
            access: try await authorize(request, context))
        let sessions = context.sessions
        return Response(try await handler.respond(to: adminRequest) { create in
            if let token = sessions.session?.defenderCSRFToken { return token }
            guard create else { return nil }
            let token = AdminHandler.makeCSRFToken()
            // Kept only in an existing session (an administrator signed in with one); Basic callers use the JSON API.
            let kept = sessions.withLockedSession { data -> Bool in
                guard data != nil else { return false }
                data?.defenderCSRFToken = token
                return true
            }
            return kept ? token : nil
        })
    }
}
