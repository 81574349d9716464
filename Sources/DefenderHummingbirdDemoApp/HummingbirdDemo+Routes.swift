import DefenderDemoSupport
import DefenderHummingbird
import FluentKit
import Hummingbird
import HummingbirdAuth
import HTTPTypes

extension HummingbirdDemo {
    /// Every route of the demo contract (DESIGN §5), answering as the Vapor demo does.
    func router() -> Router<DemoContext> {
        let router = Router(context: DemoContext.self)
        // One shape for every error, outermost so that it sees them all.
        router.add(middleware: DemoErrorMiddleware())
        // Around the sessions middleware, so that it sees the session cookie it sets.
        router.add(middleware: SecureCookiesMiddleware(defender: defender))
        router.add(middleware: SessionCookieMiddleware(storage: sessionStorage))
        router.add(middleware: SessionMiddleware(sessionStorage: sessionStorage))
        router.add(middleware: SessionUserMiddleware(demo: self))
        let demo = self

        router.get("/") { _, context in
            Response(DemoPages.home(username: context.identity?.username))
        }

        // GET is watched too, as django-defender's LoginView: a locked IP sees the lockout page.
        router.get("login") { request, context in
            try await demo.defender.watchLogin(request, context: context) { request, _ in
                Response(DemoPages.login(next: request.uri.queryParameters.get("next")))
            }
        }

        // One reading: Defender decodes the credentials once, counts that username, and the handler checks the
        // password of exactly that username.
        // DEMO_PROTECTION=off serves the same logins without Defender: the "plain" baseline of the load tests;
        // bare403 puts a middleware in front that answers 403 at once: the floor for the lockout path; floor, one
        // that resolves the client and decodes the credentials again, then the plain handler: the success path's.
        let logins = router.group().add(middleware: SameOriginMiddleware())
        let loginPosts =
            settings.bare403
            ? logins.group().add(middleware: Bare403Middleware())
            : settings.floor ? logins.group().add(middleware: FloorMiddleware(defender: demo.defender)) : logins
        loginPosts.post("login") { request, context in
            try await demo.watch(request, context, LoginForm.self, username: \.username) { form in
                guard let user = try await demo.authenticate(username: form.username, password: form.password) else {
                    return Response(DemoPages.login(next: request.uri.queryParameters.get("next"), error: DemoPages.wrongCredentials, status: 401))
                }
                try await demo.startSession(request, context, for: user)
                return Response(DemoPages.found(DemoPages.safeNext(form.next) ?? "/"))
            }
        }

        loginPosts.post("api/login") { request, context in
            try await demo.watch(request, context, APILogin.self, username: \.username, outcome: .status(.unauthorized), format: .json) { body in
                guard let user = try await demo.authenticate(username: body.username, password: body.password) else {
                    return Response(DemoPages.apiWrongCredentials)
                }
                return Response(try DemoPages.user(user.username))
            }
        }

        // HTTP Basic: failures count like form logins, so a lock earned on the form also holds here.
        router.group("api/me")
            .add(middleware: DefenderBasicAuthenticator<DemoContext>(defender, realm: DemoPages.basicRealm) { username, password, _ in
                try await demo.authenticate(username: username, password: password)
            })
            .get { _, context in
                guard let user = context.identity else { throw HTTPError(.unauthorized) }
                return Response(try DemoPages.user(user.username))
            }

        router.get("password-reset") { request, context in
            try await demo.defender.watchPasswordReset(request, context: context) { _ in Response(DemoPages.passwordReset(sent: false)) }
        }

        // The same page whatever the username: it does not tell which accounts exist. The (pretend) e-mail is
        // queued off the request, so that an existing account does not take longer to answer either.
        logins.post("password-reset") { request, context in
            try await demo.defender.watchPasswordReset(request, context: context) { username in
                let key = username.flatMap(DemoAccounts.normalize) ?? ""
                let exists = try await User.query(on: demo.database).filter(\.$username == key).count() > 0
                let outbox = demo.outbox
                Task { await outbox.request(for: key, exists: exists) }
                return Response(DemoPages.passwordReset(sent: true))
            }
        }

        DefenderAdminRoutes<DemoContext>(defender) { request, context in
            try await demo.adminAccess(request, context)
        }.register(on: router)
        DefenderUnlockRoutes(defender).register(on: router)

        // The session is deleted (its cookie expired): a later login starts a new one.
        logins.post("logout") { _, context in
            context.sessions.clearSession()
            return Response(DemoPages.found("/login"))
        }

        router.get("metrics") { request, context in
            var context = context
            let client = try demo.defender.client(request, context: &context)
            return Response(DemoPages.metrics({ demo.metricsText }, client: client, resolver: demo.defender.engine.resolver))
        }
        router.get("healthz") { _, _ in Response(try DemoPages.health(of: demo.defender.engine)) }
        return router
    }

    /// `watchLogin` with the credentials Defender decodes, or — `DEMO_PROTECTION=off` — the same decode and
    /// handler without Defender.
    func watch<Credentials: Decodable & Sendable>(
        _ request: Request, _ context: DemoContext, _ type: Credentials.Type, username: KeyPath<Credentials, String?>,
        outcome: LoginOutcome = .redirectMeansSuccess, format: LockoutResponseFormat = .automatic,
        _ handler: (Credentials) async throws -> Response
    ) async throws -> Response {
        guard settings.protection else {
            var request = request
            _ = try await request.collectBody(upTo: context.maxUploadSize)
            guard let credentials = try? await context.requestDecoder.decode(type, from: request, context: context) else {
                return Response(DemoPages.unreadableLogin)
            }
            return try await handler(credentials)
        }
        return try await defender.watchLogin(type, username: username, request: request, context: context, outcome: outcome, format: format, handler)
    }

    /// Logs `user` in on a new session id. The id the client came with (which someone else may have planted) is
    /// deleted with its data, so it never becomes an authenticated session.
    func startSession(_ request: Request, _ context: DemoContext, for user: User) async throws {
        if sessionStorage.getId(request: request) != nil { _ = try? await sessionStorage.delete(request: request) }
        context.sessions.createSession(DemoSession(userID: user.id))
    }

    /// Administrators: a signed-in `--admin` user, or admin HTTP Basic credentials, which Defender protects like
    /// any other login.
    func adminAccess(_ request: Request, _ context: DemoContext) async throws -> DefenderAdminAccess {
        if let user = context.identity { return user.isAdmin ? .sessionAdmin(user.username) : .forbidden }
        guard case .credentials(let username, let password) = BasicCredentials.parse(request.headers[values: .authorization]) else {
            return .anonymous
        }
        var context = context
        let admitted = try await defender.check(request, context: &context, username: username)
        switch try await LoginProtection.checkCredentials(engine: defender.engine, admitted: admitted, verify: {
            try await authenticate(username: username, password: password)
        }) {
        case .locked(let lockout): return .locked(lockout)
        case .failed: return .anonymous
        case .verified(let user): return user.isAdmin ? .credentialAdmin(user.username) : .forbidden
        }
    }
}
