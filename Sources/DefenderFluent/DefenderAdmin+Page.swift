import DefenderHTTP
import DefenderVapor
import Fluent
import Mustache
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
        let engine = try req.application.defender.engine()
        var sections: [AdminPageModel.BlockSection] = []
        for kind in [DefenderKey.Kind.ip, .username] {
            let cursorName = kind == .ip ? "ips_after" : "usernames_after"
            let page = try await engine.store.blocks(of: kind, after: req.query[String.self, at: cursorName], limit: blockPageSize)
            let rows = page.blocks.map { block in
                AdminPageModel.BlockRow(
                    key: block.key.value, keyKind: kind.rawValue, timeLeft: block.secondsLeft.map { Self.duration($0) } ?? "until unblocked",
                    kind: block.isManual ? "manual" : "automatic", lockouts: block.lockoutCount)
            }
            sections.append(AdminPageModel.BlockSection(
                title: kind == .ip ? "IPs" : "usernames", column: kind == .ip ? "IP" : "Username", rows: rows, hasRows: !rows.isEmpty,
                more: page.nextCursor.map { Self.link(req, [cursorName: $0]) }))
        }
        let valid = req.query[String.self, at: "valid"] ?? ""
        let rows = try await query(req, limit: pageSize + 1)
        let attempts = rows.prefix(pageSize).map { row in
            AdminPageModel.Attempt(
                time: Self.timestamp(row.attemptTime), username: row.username ?? "–", ip: row.ipAddress ?? "–", path: row.pathInfo,
                result: row.loginValid ? "✓ success" : "✗ failure", userAgent: row.userAgent)
        }
        let model = AdminPageModel(
            base: Self.base(req), csrf: Self.csrfToken(req, create: true) ?? "", admin: name, notice: req.query[String.self, at: "notice"],
            stylesheet: Self.stylesheet, blockSections: sections, denylist: try await denylistModel(req),
            filterIP: req.query[String.self, at: "ip"] ?? "", filterUsername: req.query[String.self, at: "username"] ?? "",
            validOptions: [("", "all"), ("false", "failed"), ("true", "succeeded")].map {
                AdminPageModel.Option(value: $0.0, label: $0.1, selected: valid == $0.0)
            },
            attempts: Array(attempts), hasAttempts: !attempts.isEmpty,
            older: rows.count > pageSize ? rows.prefix(pageSize).last?.id.map { Self.link(req, ["before": String($0)]) } : nil)
        let html = try req.application.defender.templatesInForce().admin.render(model)
        let response = Self.htmlPage(html: html)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }
}
