import DefenderCore
import Foundation
import HTTPTypes

/// The operator's pages and JSON API, framework-neutral: blocked IPs and usernames with time left and lockout
/// counts, block and unblock forms, the stored deny list, recent attempts with filters and paging, and
/// `api/{blocks,unblock,block,attempts,denylist}` with the same powers. Each integration mounts `AdminRoute`'s
/// table at the path it likes and hands every request here; every link and form follows that path.
///
/// Access: the app's `DefenderAdminAccess` decision. HTML forms carry a CSRF token kept in the session and are
/// refused without it (whoever sends them: browsers replay Basic credentials too); JSON POSTs need
/// `Content-Type: application/json` and, with a session, the `X-CSRF-Token` header printed in the page's
/// `<meta name="csrf-token">`. Every value on the page is escaped by Mustache. IPv6 addresses and groups work
/// everywhere: they travel in bodies and query strings, never in paths.
package struct AdminHandler: Sendable {
    /// Where anonymous visitors of the page are sent (with `?next=` back to the page).
    package let loginPath: String
    /// Rows per page of attempts.
    package let pageSize: Int
    /// Blocks per page of each kind.
    package let blockPageSize: Int
    package let operations: DefenderOperations
    package let templates: DefenderTemplates

    package init(loginPath: String, pageSize: Int, blockPageSize: Int, operations: DefenderOperations, templates: DefenderTemplates) {
        self.loginPath = loginPath
        self.pageSize = max(1, pageSize)
        self.blockPageSize = max(1, blockPageSize)
        self.operations = operations
        self.templates = templates
    }

    /// The session's CSRF token; with `create`, a new one is made and kept when there is none (only for the page,
    /// never for a POST).
    package typealias CSRFToken = (_ create: Bool) async throws -> String?

    /// The answer to one admin request.
    package func respond(to request: AdminRequest, csrfToken: CSRFToken) async throws -> HTTPAnswer {
        if request.route.isAPI {
            if let refusal = try await apiRefusal(request, csrfToken: csrfToken) { return refusal }
            return try await api(request)
        }
        switch request.access {
        case .locked(let lockout): return lockoutAnswer(lockout, page: request.route == .page)
        case .anonymous: return AdminPage.found(loginPath + "?next=" + request.base)
        case .forbidden:
            return request.route == .page
                ? AdminPage.html(title: "Forbidden", body: "<h1>Forbidden</h1><p>Administrators only.</p>", status: 403)
                : .problem(status: 403, detail: "Administrators only.")
        case .sessionAdmin(let name), .credentialAdmin(let name):
            if request.route == .page { return try await page(request, admin: name, csrf: try await csrfToken(true) ?? credentialFormToken(request)) }
            return try await formAction(request, csrf: try await csrfToken(false) ?? credentialFormToken(request))
        }
    }

    /// The token the page's forms carry when the session has none: for an administrator signed in with HTTP Basic
    /// where the integration keeps no session (browsers replay Basic credentials on a cross-site form, so the forms
    /// need a token all the same), one derived from the administrator's name and the day under a key a cross-site
    /// page cannot know (see ``credentialToken(for:key:day:)``); `nil` for a session's administrator.
    func credentialFormToken(_ request: AdminRequest) -> String? {
        guard case .credentialAdmin(let name) = request.access else { return nil }
        let key = operations.engine.configuration.secretKeys.first?.value ?? Self.processKey
        return Self.credentialToken(for: name, key: key, day: Int(Date().timeIntervalSince1970 / 86400))
    }

    /// `HMAC-SHA-256(key, purpose ‖ day ‖ name)`, cut to 128 bits: the same on every instance that shares
    /// `DEFENDER_SECRET_KEY`, and new each day (UTC), so a page left open over midnight asks for a reload once.
    package static func credentialToken(for name: String, key: String, day: Int) -> String {
        KeyedDigest.tag("\(day)\u{0}\(name)", key: key, purpose: "defender/admin-credential-csrf/v1")
    }

    /// The key of ``credentialToken(for:key:day:)`` without `DEFENDER_SECRET_KEY`: random, made once per process (a
    /// form posted to another instance is then refused, and the page says to reload).
    static let processKey = makeCSRFToken()

    /// The lockout response of credentials sent to the admin: problem+json for the API, the lockout page for the
    /// admin page (a browser replaying Basic credentials). `LOCKOUT_TEMPLATE`, which only the integration can render,
    /// gives way to problem+json here.
    func lockoutAnswer(_ lockout: Lockout, page: Bool) -> HTTPAnswer {
        let configuration = operations.engine.configuration
        if page, case .ready(let answer) = LockoutAnswer(lockout, configuration: configuration, json: false, templates: templates).body {
            return answer
        }
        guard case .ready(let answer) = LockoutAnswer(lockout, configuration: configuration, json: true, templates: templates).body else {
            return .problem(status: configuration.lockoutStatus, detail: LockoutAnswer.temporaryMessage)
        }
        return answer
    }

    // MARK: JSON API

    /// The answer that refuses an API request, or `nil` to go ahead.
    func apiRefusal(_ request: AdminRequest, csrfToken: CSRFToken) async throws -> HTTPAnswer? {
        switch request.access {
        case .anonymous:
            var fields = HTTPFields()
            fields[.wwwAuthenticate] = "Basic realm=\"Defender admin\", charset=\"UTF-8\""
            return .problem(status: 401, detail: "Sign in as an administrator, or send admin HTTP Basic credentials.", fields: fields)
        case .forbidden:
            return .problem(status: 403, detail: "Administrators only.")
        case .locked(let lockout):
            return lockoutAnswer(lockout, page: false)
        case .sessionAdmin, .credentialAdmin:
            guard request.route.isPost else { return nil }
            guard request.isJSON else { return .problem(status: 415, detail: "Send application/json.") }
            if case .sessionAdmin = request.access, !Self.tokensMatch(request.csrfHeader, try await csrfToken(false)) {
                return .problem(status: 403, detail: "The X-CSRF-Token header is missing or wrong; read it from the admin page.")
            }
            return nil
        }
    }

    func api(_ request: AdminRequest) async throws -> HTTPAnswer {
        do {
            switch request.route {
            case .apiBlocks: return try .json(try await operations.blocks())
            case .apiAttempts:
                let limit = min(max(request.query("limit").flatMap { Int($0) } ?? pageSize, 1), 1_000)
                let rows = try await operations.requireHistory().attempts(matching: filter(request, limit: limit))
                return try .json(AttemptsPage(attempts: rows.map(AttemptsPage.Row.init)))
            case .apiDenylist, .apiSharedRanges:
                let list = try operations.require(request.route.rangeList ?? .denylist)
                return try .json(DenylistPage(entries: try await list.entries().map(DenylistPage.Row.init)))
            case .apiBlock, .apiUnblock:
                let block = request.route == .apiBlock
                guard let body = try? JSONDecoder().decode(KeyBody.self, from: Data(request.body)) else {
                    return .problem(
                        status: 400,
                        detail: block
                            ? "Send {\"ip\": …} or {\"username\": …}, with an optional \"seconds\"."
                            : "Send {\"ip\": …}, {\"username\": …}, both (a shared address's pair), or {\"device\": …}.")
                }
                let key: DefenderKey?
                if let device = body.device {
                    // A device alone, and only to unblock it.
                    key = block || body.ip != nil || body.username != nil ? nil : try operations.key(kind: "device", value: device)
                } else {
                    key = try operations.key(ip: body.ip, username: body.username, pairs: !block)
                }
                guard let key else {
                    return .problem(status: 400, detail: block ? "give exactly one of ip or username" : "give ip, username, or both (a shared address's pair)")
                }
                if block { try await operations.block(key, seconds: body.seconds) } else { _ = try await operations.unblock(key) }
                return HTTPAnswer(status: 204)
            case .apiDenylistAdd, .apiDenylistRemove, .apiSharedRangesAdd, .apiSharedRangesRemove:
                let (add, list) = (request.route.addsToRangeList, request.route.rangeList ?? .denylist)
                _ = try operations.require(list)  // 404 before 400: there is no list to change
                guard let body = try? JSONDecoder().decode(DenylistBody.self, from: Data(request.body)) else {
                    return .problem(status: 400, detail: "Send {\"network\": \"203.0.113.0/24\"}" + (add ? ", with an optional \"note\"." : "."))
                }
                if add {
                    _ = try await operations.add(body.network, note: body.note ?? "", to: list)
                } else if try await !operations.remove(body.network, from: list) {
                    return .problem(status: 404, detail: "\(body.network.prefix(64)) is not on the \(list.title).")
                }
                return HTTPAnswer(status: 204)
            default:
                return .problem(status: 404, detail: "No such admin API route.")
            }
        } catch let error as DefenderError where error.code == .invalidConfiguration {
            // The app keeps no audit log or stored list: there is nothing at this address.
            return .problem(status: 404, detail: error.message)
        } catch let error as DefenderError where error.code == .invalidKey {
            return .problem(status: 400, detail: error.message)
        }
    }

    /// The attempts filter of a request's query: `ip`, `username`, `valid` (`true`/`false`), `before` (a row id).
    func filter(_ request: AdminRequest, limit: Int) -> AccessAttemptFilter {
        let valid: Bool? = switch request.query("valid") { case "true": true; case "false": false; default: nil }
        return AccessAttemptFilter(
            ip: request.query("ip").flatMap(DefenderOperations.nonBlank), username: request.query("username").flatMap(DefenderOperations.nonBlank),
            valid: valid, before: request.query("before").flatMap { Int($0) }, limit: limit)
    }

    /// A new CSRF token: 32 bytes from the system's secure generator, as hex.
    package static func makeCSRFToken() -> String {
        SigningKeys.randomHex(byteCount: 32)
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
}
