import DefenderHTTP
import DefenderVapor
import Fluent
import Foundation
import Vapor

/// The operator's pages: blocked IPs and usernames with time left and lockout counts, unblock and block forms,
/// recent attempts with filters and paging (`GET /admin/defender`), and a JSON API with the same powers
/// (`/admin/defender/api/{blocks,unblock,block,attempts}`).
///
/// Only administrators get in: the app says who is one with `authorize`. HTML forms carry a CSRF token kept in
/// the session and are refused without it; JSON POSTs need `Content-Type: application/json`, and with a session
/// the `X-CSRF-Token` header (printed in the page's `<meta name="csrf-token">`). Every user-supplied string is
/// escaped; IPv6 addresses and groups work everywhere (they travel in bodies and query strings, never in paths).
///
/// ```swift
/// DefenderAdmin { req in
///     guard let user = req.auth.get(User.self) else { return .anonymous }
///     return user.isAdmin ? .sessionAdmin(user.username) : .forbidden
/// }.register(on: app.grouped(app.sessions.middleware, User.sessionAuthenticator()))
/// ```
public struct DefenderAdmin: Sendable {
    /// Who is asking.
    public enum Access: Sendable, Equatable {
        /// An administrator signed in with a session cookie: forms and JSON POSTs must carry the CSRF token.
        case sessionAdmin(String)
        /// An administrator who sent credentials with the request (HTTP Basic): JSON POSTs need no token.
        case credentialAdmin(String)
        /// Signed in, but not an administrator: `403`.
        case forbidden
        /// Not signed in: the page redirects to `loginPath`; the API answers `401`.
        case anonymous
    }

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
        admin.get { req in try await page(req) }
        admin.post("unblock") { req in try await formAction(req, block: false) }
        admin.post("block") { req in try await formAction(req, block: true) }
        let api = admin.grouped("api")
        api.get("blocks") { req in try await guarded(req) { try await BlocksReport.read(from: req.application.defender.engine()).encodeResponse(for: req) } }
        api.post("unblock") { req in try await guarded(req, post: true) { try await apiAction(req, block: false) } }
        api.post("block") { req in try await guarded(req, post: true) { try await apiAction(req, block: true) } }
        api.get("attempts") { req in try await guarded(req) { try await AttemptsPage(attempts: attempts(req)).encodeResponse(for: req) } }
        admin.post("denylist", "add") { req in try await denylistFormAction(req, add: true) }
        admin.post("denylist", "remove") { req in try await denylistFormAction(req, add: false) }
        api.get("denylist") { req in
            try await guarded(req) { try await DenylistPage(entries: storedDenylist(req).entries().map(DenylistRow.init)).encodeResponse(for: req) }
        }
        api.post("denylist") { req in try await guarded(req, post: true) { try await denylistAPIAction(req, add: true) } }
        api.post("denylist", "remove") { req in try await guarded(req, post: true) { try await denylistAPIAction(req, add: false) } }
    }

    // MARK: API

    struct KeyBody: Content {
        var ip: String?
        var username: String?
        var seconds: Int?
    }

    struct AttemptsPage: Content {
        var attempts: [AttemptRow]
    }

    /// A row with the table's column names.
    struct AttemptRow: Content {
        var id: Int?
        var attempt_time: Date
        var username: String?
        var ip_address: String?
        var user_agent: String
        var http_accept: String
        var path_info: String
        var login_valid: Bool

        init(_ attempt: AccessAttempt) {
            id = attempt.id
            attempt_time = attempt.attemptTime
            username = attempt.username
            ip_address = attempt.ipAddress
            user_agent = attempt.userAgent
            http_accept = attempt.httpAccept
            path_info = attempt.pathInfo
            login_valid = attempt.loginValid
        }

        /// Every column is written, `null` included (an empty username is `null`, not a missing field).
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(attempt_time, forKey: .attempt_time)
            try container.encode(username, forKey: .username)
            try container.encode(ip_address, forKey: .ip_address)
            try container.encode(user_agent, forKey: .user_agent)
            try container.encode(http_accept, forKey: .http_accept)
            try container.encode(path_info, forKey: .path_info)
            try container.encode(login_valid, forKey: .login_valid)
        }
    }

    func guarded(_ req: Request, post: Bool = false, _ body: () async throws -> Response) async throws -> Response {
        switch try await authorize(req) {
        case .anonymous:
            let response = ProblemDetails.response(.unauthorized, "Sign in as an administrator, or send admin HTTP Basic credentials.")
            response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Basic realm=\"Defender admin\", charset=\"UTF-8\"")
            return response
        case .forbidden:
            return ProblemDetails.response(.forbidden, "Administrators only.")
        case .sessionAdmin:
            if post {
                guard req.headers.contentType == .json else { return ProblemDetails.response(.unsupportedMediaType, "Send application/json.") }
                guard Self.tokensMatch(req.headers.first(name: "X-CSRF-Token"), Self.csrfToken(req, create: false)) else {
                    return ProblemDetails.response(.forbidden, "The X-CSRF-Token header is missing or wrong; read it from the admin page.")
                }
            }
            return try await body()
        case .credentialAdmin:
            if post, req.headers.contentType != .json { return ProblemDetails.response(.unsupportedMediaType, "Send application/json.") }
            return try await body()
        }
    }

    func apiAction(_ req: Request, block: Bool) async throws -> Response {
        guard let body = try? req.content.decode(KeyBody.self) else {
            return ProblemDetails.response(.badRequest, "Send {\"ip\": …} or {\"username\": …}" + (block ? ", with an optional \"seconds\"." : "."))
        }
        do {
            try await apply(req, block: block, ip: body.ip, username: body.username, seconds: body.seconds)
        } catch let error as DefenderError {
            return ProblemDetails.response(.badRequest, error.message)
        }
        return Response(status: .noContent)
    }

    /// Blocks or unblocks the one key given; events fire from the engine, once per transition.
    @discardableResult
    func apply(_ req: Request, block: Bool, ip: String?, username: String?, seconds: Int?) async throws -> DefenderKey {
        let engine = try req.application.defender.engine()
        let key: DefenderKey
        switch (ip.flatMap(Self.nonEmpty), username.flatMap(Self.nonEmpty)) {
        case (let ip?, nil): key = try engine.ipKey(ip)
        case (nil, let username?): key = try engine.usernameKey(username)
        default: throw DefenderError(.invalidKey, "give exactly one of ip or username")
        }
        if block {
            if let seconds, seconds <= 0 { throw DefenderError(.invalidKey, "seconds must be above 0 (leave it out for a permanent block)") }
            try await engine.block(key, for: seconds.map { .seconds($0) })
        } else {
            try await engine.unblock(key)
        }
        return key
    }

    func attempts(_ req: Request) async throws -> [AttemptRow] {
        let limit = min(max(req.query[Int.self, at: "limit"] ?? pageSize, 1), 1000)
        return try await query(req, limit: limit).map(AttemptRow.init)
    }

    /// Newest first, filtered by `ip`, `username`, `valid`, before the id `before`.
    func query(_ req: Request, limit: Int) async throws -> [AccessAttempt] {
        var query = AccessAttempt.query(on: req.db).sort(\.$id, .descending).limit(limit)
        if let ip = req.query[String.self, at: "ip"].flatMap(Self.nonEmpty) { query = query.filter(\.$ipAddress == ip) }
        if let username = req.query[String.self, at: "username"].flatMap(Self.nonEmpty) { query = query.filter(\.$username == username) }
        switch req.query[String.self, at: "valid"] {
        case "true": query = query.filter(\.$loginValid == true)
        case "false": query = query.filter(\.$loginValid == false)
        default: break
        }
        if let before = req.query[Int.self, at: "before"] { query = query.filter(\.$id < before) }
        return try await query.all()
    }

}
