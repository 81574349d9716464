import DefenderCore
import DefenderHTTP
import Foundation
import HTTPTypes

/// Every answer the two demos build themselves (the lockouts, the admin and the Basic challenge come from
/// `DefenderHTTP`): built once here, so that the Vapor and the Hummingbird demo answer byte for byte alike.
package enum DemoPages {
    /// The session cookie of both demos.
    package static let sessionCookieName = "defender-demo-session"
    /// The session cookie for session `id`, as Vapor's sessions send it with the demo's cookie factory: not readable
    /// by scripts, not sent on cross-site POSTs, no expiry (it ends with the browser session).
    package static func sessionCookie(_ id: String) -> String { "\(sessionCookieName)=\(id); Path=/; HttpOnly; SameSite=Lax" }
    /// The cookie that ends a session that no longer exists (logged out, or unknown to the server).
    package static let expiredSessionCookie = "\(sessionCookieName)=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=Lax"
    /// The realm of `GET /api/me`'s challenge.
    package static let basicRealm = "Defender demo"
    /// The form login's message for wrong credentials.
    package static let wrongCredentials = "Please enter a correct username and password."

    /// A small HTML page around `body` (which the caller has escaped); `title` is escaped here.
    package static func page(title: String, body: String, status: Int = 200) -> HTTPAnswer {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTMLEscaping.escape(title))</title></head>
            <body>\(body)</body></html>

            """
        var fields = HTTPFields()
        fields[.contentType] = HTTPAnswer.html
        return HTTPAnswer(status: status, fields: fields, body: Array(html.utf8))
    }

    /// `GET /`: who is logged in.
    package static func home(username: String?) -> HTTPAnswer {
        let body = username.map { "<p>Logged in as <strong>\(HTMLEscaping.escape($0))</strong>.</p>"
            + "<form method=\"post\" action=\"/logout\"><button>Log out</button></form>" }
            ?? "<p>Not logged in. <a href=\"/login\">Log in</a>.</p>"
        return page(title: "Defender demo", body: body)
    }

    /// The login form, keeping a safe `next` (see ``safeNext(_:)``) and showing `error` when set.
    package static func login(next: String?, error: String? = nil, status: Int = 200) -> HTTPAnswer {
        let next = next.flatMap(safeNext) ?? ""
        let message = error.map { "<p class=\"error\">\(HTMLEscaping.escape($0))</p>" } ?? ""
        let body = """
            <h1>Log in</h1>\(message)
            <form method="post" action="/login">
            <input type="hidden" name="next" value="\(HTMLEscaping.escape(next))">
            <p><label>Username <input name="username" autocomplete="username" required></label></p>
            <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
            <p><button>Log in</button></p>
            </form>
            """
        return page(title: "Log in", body: body, status: status)
    }

    /// The password-reset form; after a request, the same notice whether or not the account exists.
    package static func passwordReset(sent: Bool) -> HTTPAnswer {
        let notice = sent ? "<p>If an account exists for that username, a link to reset its password is on its way.</p>" : ""
        let body = """
            <h1>Reset your password</h1>\(notice)
            <form method="post" action="/password-reset">
            <p><label>Username <input name="username" autocomplete="username" required></label></p>
            <p><button>Send a reset link</button></p>
            </form>
            """
        return page(title: "Reset your password", body: body)
    }

    /// `302 Found` to `location`, as the demo contract says.
    package static func found(_ location: String) -> HTTPAnswer {
        var fields = HTTPFields()
        fields[.location] = location
        return HTTPAnswer(status: 302, fields: fields)
    }

    /// `next` only when it is a path on this site (no scheme, no `//host`, no backslash tricks, no control
    /// characters).
    /// Judged on bytes and printable ASCII only: by `Character`, `//\u{FE0F}evil.example` does not start with two
    /// slashes (the second is glued to the variation selector), while a browser drops the selector and goes to
    /// `evil.example`. A path of this site that needs other characters is sent percent-encoded.
    package static func safeNext(_ next: String?) -> String? {
        guard let next else { return nil }
        let bytes = Array(next.utf8)
        guard bytes.first == UInt8(ascii: "/"), bytes.dropFirst().first != UInt8(ascii: "/"), bytes.dropFirst().first != UInt8(ascii: "\\"),
            bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") })
        else { return nil }
        return next
    }

    /// `{"username": …}`.
    package static func user(_ username: String) throws -> HTTPAnswer { try .json(APIUser(username: username)) }

    /// `POST /api/login` with wrong credentials.
    package static let apiWrongCredentials = HTTPAnswer.problem(status: 401, detail: "Invalid username or password.")
    /// A login body that does not decode, with protection off.
    package static let unreadableLogin = HTTPAnswer.problem(status: 400, detail: "The login request could not be read.")
    /// A form posted from another site.
    package static let crossSiteRefused = HTTPAnswer.problem(
        status: 403, detail: "Cross-site form posts are refused: submit the form from this site.")

    /// The answer to an error the framework raised (no route, a body over the limit, a malformed request, a failure
    /// in a handler), the same in both demos and never the framework's own text, which differs between them and
    /// may name internals: problem+json with a sentence for the person reading it.
    package static func error(status: Int) -> HTTPAnswer {
        let detail = switch status {
        case 400: "The request could not be read."
        case 404: "There is nothing at this address."
        case 405: "This address does not take that method."
        case 413: "The request body is larger than this site accepts."
        case 415: "Send application/json or application/x-www-form-urlencoded."
        case 500..<600: "Something went wrong on the server; it has been logged."
        default: HTTPAnswer.reasonPhrase(status) + "."
        }
        return .problem(status: status, detail: detail)
    }

    /// `DEMO_PROTECTION=bare403`: the answer with the same headers and page as Defender's lockout, built without any
    /// store, hash or database — what answering a blocked request costs at the least (the load test's floor).
    package static func bare403(username: String?) -> HTTPAnswer {
        var fields = HTTPFields()
        fields[.cacheControl] = "no-store"
        fields[.retryAfter] = username == nil ? "300" : "299"
        fields[.contentType] = HTTPAnswer.html
        return HTTPAnswer(status: 403, fields: fields, body: bare403Page)
    }

    static let bare403Page = Array("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Locked out</title></head>
        <body><h1>Locked out</h1><p>Account locked: too many login attempts.  Please try again later.</p><p>You can try again in 300 seconds.</p></body></html>

        """.utf8)

    /// `GET /healthz`: `200` with `ok` or `degraded`; `503` only while logins are refused (the closed policy during
    /// an outage).
    package static func health(of engine: Defender) throws -> HTTPAnswer {
        let health = DefenderHealth(of: engine)
        var answer = try HTTPAnswer.json(Health(
            status: health.status, store: health.store, topology: health.topology, primary: health.primary, primaries: health.primaries))
        if health.refusingLogins { answer.status = 503 }
        return answer
    }

    /// `GET /metrics`: the Prometheus text format, for a scraper on the operator's network only — a client whose
    /// address (resolved as for a login) is in `DEFENDER_TRUSTED_PROXIES` (loopback and private ranges by default);
    /// anyone else gets `403`. The numbers are an oracle in a stranger's hands: `defender_unlock_mails_total{result}`
    /// moves to `no_address` for a username that does not exist and to `sent` for one that does, four failed
    /// logins after asking, which the login and reset pages are built not to tell.
    /// The check is only as good as the client address: behind a proxy it needs `DEFENDER_BEHIND_REVERSE_PROXY`, or
    /// every client looks like the proxy. `text` is made only for an allowed client.
    package static func metrics(_ text: () -> String, client: ClientAddress, resolver: ClientIPResolver) -> HTTPAnswer {
        guard resolver.isTrusted(client.address) else {
            return .problem(status: 403, detail: "The metrics are for the operator's network (DEFENDER_TRUSTED_PROXIES).")
        }
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return HTTPAnswer(status: 200, fields: fields, body: Array(text().utf8))
    }

    /// Whether a browser sent this POST from another site (login CSRF: a page elsewhere logging the victim into
    /// the attacker's account, or logging her out). The login and reset forms have no session to hold a CSRF
    /// token before login, so this uses the headers browsers attach to every such request (OWASP's "verifying
    /// origin with standard headers"): `Sec-Fetch-Site: cross-site`, or an `Origin` whose host is not the
    /// request's `Host`; a request with neither (curl, scripts, old browsers) is let through. A browser sends each
    /// field once with one value: a request with two, or a list, is no browser's and is refused — so that no
    /// framework reads the first and another the joined value.
    /// - Parameters:
    ///   - secFetchSite: every `Sec-Fetch-Site` field value.
    ///   - origin: every `Origin` field value.
    ///   - host: the request's host.
    package static func isCrossSite(secFetchSite: [String], origin: [String], host: String?) -> Bool {
        guard secFetchSite.count <= 1, origin.count <= 1 else { return true }
        if let site = secFetchSite.first?.trimmingCharacters(in: .whitespaces).lowercased() { return site == "cross-site" || site.contains(",") }
        guard let origin = origin.first else { return false }
        // `Origin: null` (sandboxed frames, some redirects) is never this site.
        guard let parsed = URLComponents(string: origin), let originHost = parsed.host, !originHost.isEmpty, let host else { return true }
        let port = parsed.port.map { ":\($0)" } ?? ""
        return (originHost + port).lowercased() != host.lowercased() && originHost.lowercased() != host.lowercased()
    }
}

/// `POST /login`: the form's fields (the browser sends URL-encoded).
package struct LoginForm: Codable, Sendable {
    package var username: String?
    package var password: String?
    package var next: String?
}

/// `POST /api/login`.
package struct APILogin: Codable, Sendable {
    package var username: String?
    package var password: String?
}

/// `{"username": …}`.
struct APIUser: Codable {
    var username: String
}

/// `{"status": …, "store": …}`.
/// `{"status","store"}`, and with Sentinel `topology` and `primary`, with a Cluster `topology` and `primaries`.
struct Health: Codable {
    var status: String
    var store: String
    var topology: String?
    var primary: String?
    var primaries: Int?
}
