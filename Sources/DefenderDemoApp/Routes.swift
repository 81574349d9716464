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
            Response(DemoPages.home(username: req.auth.get(User.self)?.username))
        }

        // GET is watched too, as django-defender's LoginView: a locked IP sees the lockout page.
        app.get("login") { req async throws -> Response in
            try await req.defender.watchLogin { _ in loginPage(req) }
        }

        // DEMO_PROTECTION=off serves the same logins without Defender: the "plain" baseline of the load tests;
        // bare403 puts a middleware in front that answers 403 at once: the floor for the lockout path; floor, one
        // that resolves the client and decodes the credentials again, then the plain handler: the success path's.
        let protected = app.storage[SettingsKey.self]?.protection ?? true
        let sameOrigin = app.grouped(SameOriginMiddleware())
        let settings = app.storage[SettingsKey.self]
        let logins: any RoutesBuilder =
            settings?.bare403 == true
            ? sameOrigin.grouped(Bare403Middleware()) : settings?.floor == true ? sameOrigin.grouped(FloorMiddleware()) : sameOrigin
        // One reading: Defender decodes the credentials once, with Vapor's decoder for the request's media type,
        // counts that username, and the handler checks the password of exactly that username.
        logins.post("login") { req async throws -> Response in
            try await watch(req, protected, LoginForm.self) { form in
                guard let user = try await authenticate(req, username: form.username, password: form.password) else {
                    return loginPage(req, error: DemoPages.wrongCredentials, status: 401)
                }
                try await startSession(req, for: user)
                return found(DemoPages.safeNext(form.next) ?? "/")
            }
        }

        logins.post("api", "login") { req async throws -> Response in
            try await watch(req, protected, APILogin.self, outcome: .status(.unauthorized), format: .json) { body in
                guard let user = try await authenticate(req, username: body.username, password: body.password) else {
                    return Response(DemoPages.apiWrongCredentials)
                }
                return Response(try DemoPages.user(user.username))
            }
        }

        // HTTP Basic: failures count like form logins, so a lock earned on the form also holds here.
        let basic = app.grouped(DefenderBasicAuthenticator(realm: DemoPages.basicRealm) { username, password, req in
            guard let user = try await authenticate(req, username: username, password: password) else { return false }
            req.auth.login(user)
            return true
        })
        basic.get("api", "me") { req async throws -> Response in
            Response(try DemoPages.user(try req.auth.require(User.self).username))
        }

        app.get("password-reset") { req async throws -> Response in
            try await req.defender.watchPasswordReset { _ in Response(DemoPages.passwordReset(sent: false)) }
        }

        // The same page whatever the username: it does not tell which accounts exist. The (pretend) e-mail is
        // queued off the request, so that an existing account does not take longer to answer either.
        sameOrigin.post("password-reset") { req async throws -> Response in
            try await req.defender.watchPasswordReset { username in
                // The same work on both paths: a count (no row to decode) and a queued task.
                let key = username.flatMap(DemoAccounts.normalize) ?? ""
                let exists = try await User.query(on: req.db).filter(\.$username == key).count() > 0
                let outbox = req.application.passwordResetOutbox
                Task { await outbox.request(for: key, exists: exists) }
                return Response(DemoPages.passwordReset(sent: true))
            }
        }

        DefenderAdmin(authorize: adminAccess).register(on: sessions)
        DefenderUnlockRoutes().register(on: app)

        // The session is deleted (its cookie expired): a later login starts a new one.
        sessions.grouped(SameOriginMiddleware()).post("logout") { req async throws -> Response in
            req.auth.logout(User.self)
            req.session.destroy()
            return found("/login")
        }

        // 200 with "ok" or "degraded"; 503 only while logins are refused (the closed policy during an outage).
        app.get("metrics") { req -> Response in
            Response(DemoPages.metrics(
                { req.application.storage[MetricsRegistryKey.self]?.emitToString() ?? "" }, client: try req.defender.client(),
                resolver: try req.defender.engine().resolver))
        }
        app.get("healthz") { req async throws -> Response in
            Response(try DemoPages.health(of: try req.application.defender.engine()))
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
                return Response(DemoPages.unreadableLogin)
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
        // The one reading of the header both demos and both authenticators share (`BasicCredentials`).
        guard case .credentials(let username, let password) = BasicCredentials.parse(req.headers[.authorization]) else { return .anonymous }
        let checked = try await LoginProtection.checkCredentials(engine: try req.defender.engine(), admitted: try await req.defender.check(username: username)) {
            try await authenticate(req, username: username, password: password)
        }
        switch checked {
        case .locked(let lockout): return .locked(lockout)
        case .failed: return .anonymous
        case .verified(let user): return user.isAdmin ? .credentialAdmin(user.username) : .forbidden
        }
    }

    /// Checks a password with bcrypt off the event loop. Unknown users are checked against a dummy hash of the
    /// same cost, so that the answer's timing does not reveal which accounts exist.
    static func authenticate(_ req: Request, username: String?, password: String?) async throws -> User? {
        let dummy = req.application.storage[DummyHashKey.self] ?? ""
        let user = try await User.named(username, on: req.db)
        let password = password ?? ""
        let digest = user?.passwordHash ?? dummy
        let verified = (try? await req.password.async.verify(password, created: digest).get()) ?? false
        return verified && !password.isEmpty ? user : nil
    }

    static func found(_ location: String) -> Response { Response(DemoPages.found(location)) }

    /// The login form, keeping the query's `next`.
    static func loginPage(_ req: Request, error: String? = nil, status: Int = 200) -> Response {
        Response(DemoPages.login(next: req.query[String.self, at: "next"], error: error, status: status))
    }

    static func problem(_ status: HTTPStatus, _ detail: String) -> Response {
        Response(HTTPAnswer.problem(status: Int(status.code), title: status.reasonPhrase, detail: detail))
    }
}

/// What a login request carries; Defender counts `username` and the handler checks it.
protocol LoginFields: Decodable, Sendable {
    var username: String? { get }
}

/// The shared login bodies, decoded with Vapor's content decoders.
extension LoginForm: Content, LoginFields {}
extension APILogin: Content, LoginFields {}

/// The demo's Prometheus registry.
struct MetricsRegistryKey: StorageKey { typealias Value = PrometheusCollectorRegistry }
