import DefenderHTTP
import DefenderVapor
import Fluent
import Foundation
import Vapor

extension DefenderAdmin {
    // MARK: HTML

    func formAction(_ req: Request, block: Bool) async throws -> Response {
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
    func adminForm(_ req: Request) async throws -> FormCheck {
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

    func page(_ req: Request) async throws -> Response {
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
}
