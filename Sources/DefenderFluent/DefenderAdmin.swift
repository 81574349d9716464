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
        /// Not signed in: the page redirects to ``loginPath``; the API answers `401`.
        case anonymous
    }

    public typealias Authorize = @Sendable (Request) async throws -> Access

    /// Where anonymous visitors of the page are sent (with `?next=` back to the page).
    public var loginPath: String
    /// Rows per page of attempts.
    public var pageSize: Int
    /// Blocks per page of each kind.
    public var blockPageSize: Int
    let authorize: Authorize

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

    // MARK: Stored deny list

    struct DenylistPage: Content {
        var entries: [DenylistRow]
    }

    struct DenylistRow: Content {
        var network: String
        var note: String
        var createdAt: Date

        init(_ entry: DenylistEntry) {
            network = entry.network
            note = entry.note
            createdAt = entry.createdAt
        }
    }

    struct DenylistBody: Content {
        var network: String
        var note: String?
    }

    /// The app's stored deny list; a `404` problem when it has none (`useFluentDenylist()` not called).
    private func storedDenylist(_ req: Request) throws -> FluentDenylist {
        guard let list = req.application.defender.fluentDenylist else {
            throw Abort(.notFound, reason: "This app keeps no stored deny list (DefenderSupport.useFluentDenylist()).")
        }
        return list
    }

    private func denylistAPIAction(_ req: Request, add: Bool) async throws -> Response {
        let list = try storedDenylist(req)
        guard let body = try? req.content.decode(DenylistBody.self) else {
            return ProblemDetails.response(.badRequest, "Send {\"network\": \"203.0.113.0/24\"}" + (add ? ", with an optional \"note\"." : "."))
        }
        do {
            if add {
                try await list.add(body.network, note: body.note ?? "")
            } else if try await !list.remove(body.network) {
                return ProblemDetails.response(.notFound, "\(body.network.prefix(64)) is not on the stored deny list.")
            }
        } catch let error as DefenderError {
            return ProblemDetails.response(.badRequest, error.message)
        }
        return Response(status: .noContent)
    }

    private func denylistFormAction(_ req: Request, add: Bool) async throws -> Response {
        let form: AdminForm
        switch try await adminForm(req) {
        case .form(let checked): form = checked
        case .refused(let response): return response
        }
        let list = try storedDenylist(req)
        let notice: String
        do {
            let value = form.value ?? ""
            if add {
                let (network, added) = try await list.add(value, note: form.note ?? "")
                notice = added ? "Deny-listed \(network)." : "\(network) was already deny-listed."
            } else {
                notice = try await list.remove(value) ? "Removed \(value) from the deny list." : "\(value) was not on the deny list."
            }
        } catch let error as DefenderError {
            notice = "Nothing changed: \(error.message)."
        }
        return Self.backToPage(req, notice: notice)
    }

    private func denylistSection(_ req: Request, token: String) async throws -> String {
        guard let list = req.application.defender.fluentDenylist else { return "" }
        let e = HTMLEscaping.escape
        var html = "<h2>Deny list</h2><p>Refused before any password check, kept across restarts.</p>"
        let entries = try await list.entries()
        if entries.isEmpty {
            html += "<p class=\"empty\">None.</p>"
        } else {
            html += "<table><thead><tr><th>Range</th><th>Note</th><th>Added (UTC)</th><th></th></tr></thead><tbody>"
            for entry in entries {
                html += "<tr><td><code>\(e(entry.network))</code></td><td>\(e(entry.note))</td><td>\(Self.timestamp(entry.createdAt))</td>"
                html += "<td><form method=\"post\" action=\"\(e(Self.base(req)))/denylist/remove\"><input type=\"hidden\" name=\"csrf\" value=\"\(e(token))\">"
                html += "<input type=\"hidden\" name=\"value\" value=\"\(e(entry.network))\"><button>Remove</button></form></td></tr>"
            }
            html += "</tbody></table>"
        }
        html += """
            <form method="post" action="\(e(Self.base(req)))/denylist/add" class="inline">
            <input type="hidden" name="csrf" value="\(e(token))">
            <input name="value" required placeholder="203.0.113.0/24 or 2001:db8::/32">
            <input name="note" placeholder="note (why)">
            <button>Deny</button>
            </form>
            """
        return html
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

    private func guarded(_ req: Request, post: Bool = false, _ body: () async throws -> Response) async throws -> Response {
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

    private func apiAction(_ req: Request, block: Bool) async throws -> Response {
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
    private func apply(_ req: Request, block: Bool, ip: String?, username: String?, seconds: Int?) async throws -> DefenderKey {
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

    private func attempts(_ req: Request) async throws -> [AttemptRow] {
        let limit = min(max(req.query[Int.self, at: "limit"] ?? pageSize, 1), 1000)
        return try await query(req, limit: limit).map(AttemptRow.init)
    }

    /// Newest first, filtered by `ip`, `username`, `valid`, before the id `before`.
    private func query(_ req: Request, limit: Int) async throws -> [AccessAttempt] {
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

    // MARK: HTML

    private func formAction(_ req: Request, block: Bool) async throws -> Response {
        let form: AdminForm
        switch try await adminForm(req) {
        case .form(let checked): form = checked
        case .refused(let response): return response
        }
        let notice: String
        do {
            let key = try await apply(
                req, block: block, ip: form.kind == "ip" ? form.value : nil, username: form.kind == "username" ? form.value : nil,
                seconds: form.seconds.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
            notice = "\(block ? "Blocked" : "Unblocked") \(key.kind.rawValue) \(key.value)."
        } catch let error as DefenderError {
            notice = "Nothing changed: \(error.message)."
        }
        return Self.backToPage(req, notice: notice)
    }

    enum FormCheck {
        case form(AdminForm)
        case refused(Response)
    }

    /// The form of an admin POST, or the answer that refuses it: not an administrator, or no valid CSRF token.
    private func adminForm(_ req: Request) async throws -> FormCheck {
        switch try await authorize(req) {
        case .anonymous: return .refused(Self.found(loginPath + "?next=" + Self.base(req)))
        case .forbidden: return .refused(ProblemDetails.response(.forbidden, "Administrators only."))
        case .sessionAdmin, .credentialAdmin: break
        }
        // Every form, whoever sent it, carries the session's token: browsers also replay Basic credentials.
        guard let form = try? req.content.decode(AdminForm.self), Self.tokensMatch(form.csrf, Self.csrfToken(req, create: false)) else {
            return .refused(Self.htmlPage(title: "Refused", body: "<h1>Refused</h1><p>The form's CSRF token is missing or wrong. <a href=\"\(HTMLEscaping.escape(Self.base(req)))\">Reload the page</a> and try again.</p>", status: .forbidden))
        }
        return .form(form)
    }

    /// `303` back to the page, showing `notice`.
    static func backToPage(_ req: Request, notice: String) -> Response {
        var components = URLComponents()
        components.path = base(req)
        components.queryItems = [URLQueryItem(name: "notice", value: notice)]
        return Response(status: .seeOther, headers: ["Location": components.string ?? base(req)])
    }

    /// The path the admin is mounted at, from the route this request matched (the page, or one of its form
    /// actions), so that links and forms work under any prefix.
    static func base(_ req: Request) -> String {
        var parts = req.route?.path.map(\.description) ?? ["admin", "defender"]
        if parts.count >= 2, parts[parts.count - 2] == "denylist" {
            parts.removeLast(2)
        } else if let last = parts.last, last == "unblock" || last == "block" {
            parts.removeLast()
        }
        return "/" + parts.joined(separator: "/")
    }

    struct AdminForm: Content {
        var csrf: String?
        var kind: String?
        var value: String?
        var seconds: String?
        var note: String?
    }

    private func page(_ req: Request) async throws -> Response {
        let name: String
        switch try await authorize(req) {
        case .anonymous: return Self.found(loginPath + "?next=" + Self.base(req))
        case .forbidden: return Self.htmlPage(title: "Forbidden", body: "<h1>Forbidden</h1><p>Administrators only.</p>", status: .forbidden)
        case .sessionAdmin(let admin), .credentialAdmin(let admin): name = admin
        }
        let token = Self.csrfToken(req, create: true) ?? ""
        let engine = try req.application.defender.engine()
        let e = HTMLEscaping.escape
        var html = "<h1>Defender</h1><p class=\"who\">Signed in as \(e(name)).</p>"
        if let notice = req.query[String.self, at: "notice"] { html += "<p class=\"notice\">\(e(notice))</p>" }

        for kind in [DefenderKey.Kind.ip, .username] {
            let cursorName = kind == .ip ? "ips_after" : "usernames_after"
            let page = try await engine.store.blocks(of: kind, after: req.query[String.self, at: cursorName], limit: blockPageSize)
            html += "<h2>Blocked \(kind == .ip ? "IPs" : "usernames")</h2>"
            if page.blocks.isEmpty {
                html += "<p class=\"empty\">None.</p>"
            } else {
                html += "<table><thead><tr><th>\(kind == .ip ? "IP" : "Username")</th><th>Time left</th><th>Kind</th><th>Lockouts</th><th></th></tr></thead><tbody>"
                for block in page.blocks {
                    let left = block.secondsLeft.map { Self.duration($0) } ?? "until unblocked"
                    html += "<tr><td><code>\(e(block.key.value))</code></td><td>\(left)</td><td>\(block.isManual ? "manual" : "automatic")</td><td>\(block.lockoutCount)</td>"
                    html += "<td><form method=\"post\" action=\"\(e(Self.base(req)))/unblock\"><input type=\"hidden\" name=\"csrf\" value=\"\(e(token))\">"
                    html += "<input type=\"hidden\" name=\"kind\" value=\"\(kind.rawValue)\"><input type=\"hidden\" name=\"value\" value=\"\(e(block.key.value))\">"
                    html += "<button>Unblock</button></form></td></tr>"
                }
                html += "</tbody></table>"
                if let next = page.nextCursor { html += "<p><a href=\"\(e(Self.link(req, [cursorName: next])))\">More</a></p>" }
            }
        }

        html += """
            <h2>Block by hand</h2>
            <form method="post" action="\(e(Self.base(req)))/block" class="inline">
            <input type="hidden" name="csrf" value="\(e(token))">
            <select name="kind"><option value="ip">IP or IPv6 group</option><option value="username">Username</option></select>
            <input name="value" required placeholder="203.0.113.7, 2001:db8::/64 or a username">
            <input name="seconds" inputmode="numeric" placeholder="seconds (empty: permanent)">
            <button>Block</button>
            </form>
            """

        html += try await denylistSection(req, token: token)

        let ip = req.query[String.self, at: "ip"] ?? ""
        let username = req.query[String.self, at: "username"] ?? ""
        let valid = req.query[String.self, at: "valid"] ?? ""
        func option(_ value: String, _ label: String) -> String {
            "<option value=\"\(value)\"\(valid == value ? " selected" : "")>\(label)</option>"
        }
        html += """
            <h2>Recent attempts</h2>
            <form method="get" action="\(e(Self.base(req)))" class="inline">
            <input name="ip" value="\(e(ip))" placeholder="IP">
            <input name="username" value="\(e(username))" placeholder="username">
            <select name="valid">\(option("", "all"))\(option("false", "failed"))\(option("true", "succeeded"))</select>
            <button>Filter</button>
            </form>
            """
        let rows = try await query(req, limit: pageSize + 1)
        if rows.isEmpty {
            html += "<p class=\"empty\">No attempts.</p>"
        } else {
            html += "<table><thead><tr><th>Time (UTC)</th><th>Username</th><th>IP</th><th>Path</th><th>Result</th><th>User agent</th></tr></thead><tbody>"
            for row in rows.prefix(pageSize) {
                html += "<tr><td>\(Self.timestamp(row.attemptTime))</td><td>\(e(row.username ?? "–"))</td><td><code>\(e(row.ipAddress ?? "–"))</code></td>"
                html += "<td>\(e(row.pathInfo))</td><td>\(row.loginValid ? "✓ success" : "✗ failure")</td><td class=\"ua\">\(e(row.userAgent))</td></tr>"
            }
            html += "</tbody></table>"
            if rows.count > pageSize, let last = rows.prefix(pageSize).last?.id {
                html += "<p><a href=\"\(e(Self.link(req, ["before": String(last)])))\">Older</a></p>"
            }
        }
        let response = Self.htmlPage(title: "Defender", body: html, head: "<meta name=\"csrf-token\" content=\"\(e(token))\">")
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    // MARK: Helpers

    static let csrfKey = "_defender_csrf"

    /// The session's token; a new one is made for the page (`create`), never for a POST.
    static func csrfToken(_ req: Request, create: Bool) -> String? {
        if let token = req.session.data[csrfKey] { return token }
        guard create else { return nil }
        let token = [UInt8].random(count: 32).hexEncoded
        req.session.data[csrfKey] = token
        return token
    }

    /// Compares in time independent of where they differ.
    static func tokensMatch(_ given: String?, _ expected: String?) -> Bool {
        guard let given, let expected, !expected.isEmpty else { return false }
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// `302 Found` (the contract's status; Vapor's `redirect(to:)` answers `303`).
    static func found(_ location: String) -> Response {
        Response(status: .found, headers: ["Location": location])
    }

    static func nonEmpty(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// This page's URL with some query items replaced.
    static func link(_ req: Request, _ changes: [String: String]) -> String {
        var components = URLComponents(string: req.url.string) ?? URLComponents()
        var items = (components.queryItems ?? []).filter { changes[$0.name] == nil && $0.name != "notice" }
        items += changes.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        components.queryItems = items
        components.path = base(req)
        return components.string ?? base(req)
    }

    static func duration(_ seconds: Int) -> String {
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        return formatter.string(from: date)
    }

    static func htmlPage(title: String, body: String, head: String = "", status: HTTPResponseStatus = .ok) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTMLEscaping.escape(title))</title>\(head)
            <style>\(stylesheet)</style></head>
            <body>\(body)</body></html>

            """
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.add(name: "Content-Security-Policy", value: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        headers.add(name: "X-Frame-Options", value: "DENY")
        return Response(status: status, headers: headers, body: .init(string: html))
    }

    static let stylesheet = """
        body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
        h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2}
        th{background:#f6f8fa}td{white-space:nowrap}td.ua{white-space:nowrap}code{font-size:.9em}.notice{background:#dafbe1;padding:.5rem;border-radius:4px}
        .who,.empty{color:#57606a}.ua{color:#57606a;font-size:.85em;max-width:18rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        form.inline{display:flex;gap:.5rem;flex-wrap:wrap}input,select,button{font:inherit;padding:.2rem .4rem}
        button{cursor:pointer}td form{margin:0}
        """
}
