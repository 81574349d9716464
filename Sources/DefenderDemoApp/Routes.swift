import DefenderHTTP
import DefenderFluent
import DefenderVapor
import Fluent
import Prometheus
import Vapor

extension DemoApp {
    static func routes(_ app: Application) throws {
        let sessions = app.grouped(User.sessionAuthenticator())

        sessions.get { req async throws -> Response in
            let user = req.auth.get(User.self)
            let body = user.map { "<p>Logged in as <strong>\(HTML.escape($0.username))</strong>.</p>"
                + "<form method=\"post\" action=\"/logout\"><button>Log out</button></form>" }
                ?? "<p>Not logged in. <a href=\"/login\">Log in</a>.</p>"
            return HTML.page(title: "Defender demo", body: body)
        }

        // GET is watched too, as django-defender's LoginView: a locked IP sees the lockout page.
        app.get("login") { req async throws -> Response in
            try await req.defender.watchLogin { _ in loginPage(req, status: .ok, error: nil) }
        }

        // DEMO_PROTECTION=off serves the same logins without Defender: the "plain" baseline of the load tests;
        // bare403 puts a middleware in front that answers 403 at once: the floor for the lockout path.
        let protected = app.storage[SettingsKey.self]?.protection ?? true
        let sameOrigin = app.grouped(SameOriginMiddleware())
        let logins: any RoutesBuilder = app.storage[SettingsKey.self]?.bare403 == true ? sameOrigin.grouped(Bare403Middleware()) : sameOrigin
        // One reading: Defender decodes the credentials once, with Vapor's decoder for the request's media type,
        // counts that username, and the handler checks the password of exactly that username.
        logins.post("login") { req async throws -> Response in
            try await watch(req, protected, LoginForm.self) { form in
                guard let user = try await authenticate(req, username: form.username, password: form.password) else {
                    return loginPage(req, status: .unauthorized, error: "Please enter a correct username and password.")
                }
                try await startSession(req, for: user)
                return found(safeNext(form.next) ?? "/")
            }
        }

        logins.post("api", "login") { req async throws -> Response in
            try await watch(req, protected, APILogin.self, outcome: .status(.unauthorized), format: .json) { body in
                guard let user = try await authenticate(req, username: body.username, password: body.password) else {
                    return problem(.unauthorized, "Invalid username or password.")
                }
                return try await APIUser(username: user.username).encodeResponse(for: req)
            }
        }

        // HTTP Basic: failures count like form logins, so a lock earned on the form also holds here.
        let basic = app.grouped(DefenderBasicAuthenticator(realm: "Defender demo") { username, password, req in
            guard let user = try await authenticate(req, username: username, password: password) else { return false }
            req.auth.login(user)
            return true
        })
        basic.get("api", "me") { req async throws -> APIUser in
            APIUser(username: try req.auth.require(User.self).username)
        }

        app.get("password-reset") { req async throws -> Response in
            try await req.defender.watchPasswordReset { _ in passwordResetPage(sent: false) }
        }

        // The same page whatever the username: it does not tell which accounts exist. The (pretend) e-mail is
        // queued off the request, so that an existing account does not take longer to answer either.
        sameOrigin.post("password-reset") { req async throws -> Response in
            try await req.defender.watchPasswordReset { username in
                // The same work on both paths: a count (no row to decode) and a queued task.
                let key = username.flatMap(DefenderKey.normalizeUsername) ?? ""
                let exists = try await User.query(on: req.db).filter(\.$username == key).count() > 0
                let outbox = req.application.passwordResetOutbox
                Task { await outbox.request(for: key, exists: exists) }
                return passwordResetPage(sent: true)
            }
        }

        DefenderAdmin(authorize: adminAccess).register(on: sessions)

        // The session is deleted (its cookie expired): a later login starts a new one.
        sessions.grouped(SameOriginMiddleware()).post("logout") { req async throws -> Response in
            req.auth.logout(User.self)
            req.session.destroy()
            return found("/login")
        }

        // 200 with "ok" or "degraded"; 503 only while logins are refused (the closed policy during an outage).
        app.get("metrics") { req -> Response in
            var headers = HTTPHeaders()
            headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4", "charset": "utf-8"])
            let text = req.application.storage[MetricsRegistryKey.self]?.emitToString() ?? ""
            return Response(status: .ok, headers: headers, body: .init(string: text))
        }
        app.get("healthz") { req async throws -> Response in
            let health = try req.application.defender.health()
            let response = try await Health(status: health.status, store: health.store).encodeResponse(for: req)
            if health.refusingLogins { response.status = .serviceUnavailable }
            return response
        }
    }

    /// `watchLogin` with the credentials Defender decodes, or — protection off — the same decode and handler
    /// without Defender.
    static func watch<Credentials: LoginFields>(
        _ req: Request, _ protected: Bool, _ type: Credentials.Type, outcome: LoginOutcome = .redirectMeansSuccess,
        format: LockoutResponseFormat = .automatic, _ handler: @Sendable (Credentials) async throws -> Response
    ) async throws -> Response {
        guard protected else {
            guard let credentials = try await req.defender.credentials(Credentials.self) else {
                return problem(.badRequest, "The login request could not be read.")
            }
            return try await handler(credentials)
        }
        return try await req.defender.watchLogin(type, username: \.username, outcome: outcome, format: format, handler)
    }

    /// Logs `user` in on a new session id. The id the client came with (which someone else may have planted)
    /// is deleted with its data, so it never becomes an authenticated session.
    static func startSession(_ req: Request, for user: User) async throws {
        if let old = req.session.id {
            try await req.application.sessions.driver.deleteSession(old, for: req).get()
            req.session.id = nil
        }
        req.session.data = SessionData()
        req.auth.login(user)
        req.session.authenticate(user)
    }

    /// Administrators: a signed-in `--admin` user, or admin HTTP Basic credentials, which Defender protects like
    /// any other login.
    @Sendable static func adminAccess(_ req: Request) async throws -> DefenderAdmin.Access {
        if let user = req.auth.get(User.self) { return user.isAdmin ? .sessionAdmin(user.username) : .forbidden }
        guard let basic = req.headers.basicAuthorization else { return .anonymous }
        switch try await req.defender.check(username: basic.username) {
        case .locked:
            return .forbidden
        case .allowed(let attempt):
            let engine = try req.defender.engine()
            let user: User?
            do {
                user = try await authenticate(req, username: basic.username, password: basic.password)
            } catch {
                try? await engine.release(attempt)
                throw error
            }
            guard let user else {
                try await engine.recordFailure(attempt)
                return .anonymous
            }
            try await engine.recordSuccess(attempt)
            return user.isAdmin ? .credentialAdmin(user.username) : .forbidden
        }
    }

    /// Checks a password with bcrypt off the event loop. Unknown users are checked against a dummy hash of the
    /// same cost, so that the answer's timing does not reveal which accounts exist.
    static func authenticate(_ req: Request, username: String?, password: String?) async throws -> User? {
        let dummy = req.application.storage[DummyHashKey.self] ?? ""
        let key = username.flatMap(DefenderKey.normalizeUsername)
        let user: User?
        if let key { user = try await User.query(on: req.db).filter(\.$username == key).first() } else { user = nil }
        let password = password ?? ""
        let digest = user?.passwordHash ?? dummy
        let verified = (try? await req.password.async.verify(password, created: digest).get()) ?? false
        return verified && !password.isEmpty ? user : nil
    }

    /// `next` only when it is a path on this site (no scheme, no `//host`, no backslash tricks).
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
            !next.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } ?? false })
        else { return nil }
        return next
    }

    /// `302 Found`, as the demo contract says (Vapor's `redirect(to:)` answers 303).
    static func found(_ location: String) -> Response {
        Response(status: .found, headers: [HTTPHeaders.Name.location.description: location])
    }

    static func loginPage(_ req: Request, status: HTTPStatus, error: String?) -> Response {
        let next = req.query[String.self, at: "next"].flatMap(safeNext) ?? ""
        let message = error.map { "<p class=\"error\">\(HTML.escape($0))</p>" } ?? ""
        let body = """
            <h1>Log in</h1>\(message)
            <form method="post" action="/login">
            <input type="hidden" name="next" value="\(HTML.escape(next))">
            <p><label>Username <input name="username" autocomplete="username" required></label></p>
            <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
            <p><button>Log in</button></p>
            </form>
            """
        return HTML.page(title: "Log in", body: body, status: status)
    }

    static func passwordResetPage(sent: Bool) -> Response {
        let notice = sent ? "<p>If an account exists for that username, a link to reset its password is on its way.</p>" : ""
        let body = """
            <h1>Reset your password</h1>\(notice)
            <form method="post" action="/password-reset">
            <p><label>Username <input name="username" autocomplete="username" required></label></p>
            <p><button>Send a reset link</button></p>
            </form>
            """
        return HTML.page(title: "Reset your password", body: body)
    }

    static func problem(_ status: HTTPStatus, _ detail: String) -> Response { ProblemDetails.response(status, detail) }
}

/// What a login request carries; Defender counts `username` and the handler checks it.
protocol LoginFields: Decodable, Sendable {
    var username: String? { get }
}

/// `POST /login`: the form's fields (any media type Vapor decodes; the browser sends URL-encoded).
struct LoginForm: Content, LoginFields {
    var username: String?
    var password: String?
    var next: String?
}

/// `POST /api/login`.
struct APILogin: Content, LoginFields {
    var username: String?
    var password: String?
}

struct APIUser: Content {
    var username: String
}

struct Health: Content {
    var status: String
    var store: String
}


/// Minimal HTML helpers: every interpolated user string goes through ``escape(_:)``.
enum HTML {
    static func escape(_ text: String) -> String { HTMLEscaping.escape(text) }

    static func page(title: String, body: String, status: HTTPStatus = .ok) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title></head>
            <body>\(body)</body></html>

            """
        var headers = HTTPHeaders()
        headers.contentType = .html
        return Response(status: status, headers: headers, body: .init(string: html))
    }
}

/// The demo's Prometheus registry.
struct MetricsRegistryKey: StorageKey { typealias Value = PrometheusCollectorRegistry }
