import DefenderHTTP
import Hummingbird
import HTTPTypes

extension HummingbirdDefender {
    /// Runs a login handler under protection (django-defender's `watch_login`), race-free: the request is
    /// admitted first (a locked request gets the lockout response and the handler is not called), the handler's
    /// response is classified by `outcome` (a failure is counted and answered with the lockout when it crosses a
    /// limit; a success clears counters), and a thrown `401` (`HTTPResponseError`) counts as a failure. Other
    /// thrown errors and cancellation give the slot back uncounted. `GET`, `HEAD` and `OPTIONS` are only checked
    /// for a lock.
    ///
    /// The handler gets the request with its body collected and the context with `defender.username` set: check
    /// the password of that username.
    ///
    /// A login that succeeds with no username read means the route reads it from the wrong place: it is
    /// reported (a warning naming the route, `defender_logins_without_username_total`), never silently counted
    /// by address alone — give such a route its `usernameFrom`, or `.ipOnly` when that is intended.
    /// - Parameters:
    ///   - request: the request.
    ///   - context: its context.
    ///   - source: where this route's requests carry the username (`.formField`, `.pathParameter("name")`,
    ///     `.ipOnly`); by default `DefenderConfiguration/usernameSource`.
    ///   - outcome: how to tell a failed login from a successful one.
    ///   - format: the lockout response's format.
    ///   - maxBodySize: the largest body read; by default the context's `maxUploadSize`.
    ///   - handler: the login handler.
    /// - Returns: the handler's response, the lockout response, or Defender's own answer to a `DefenderError`
    ///   (`503` with `Retry-After: 1` when admission waits too long, `503` while the store refuses, `400` for a
    ///   forwarding header with no address) as problem+json, the same in every integration.
    /// - Throws: `413` for a larger body; whatever the handler throws.
    public func watchLogin<Context: DefenderRequestContext>(
        _ request: Request, context: Context, usernameFrom source: UsernameSource? = nil, outcome: LoginOutcome = .redirectMeansSuccess,
        format: LockoutResponseFormat = .automatic, maxBodySize: Int? = nil, _ handler: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var login = login(request, context, maxBodySize: maxBodySize)
        return try await login.protectLogin(usernameFrom: source, classify: outcome.classify, format: format) { login, _ in
            try await handler(login.request, login.context)
        }
    }

    /// Runs a login handler under protection with the credentials decoded once by Defender, with the context's
    /// request decoder: the username at `username` is the one counted, and the handler receives the decoded value —
    /// check the password of `credentials[keyPath: username]` and nothing else. A body that does not decode names
    /// no username: it is counted against the IP as a failed login, the handler is not called, and the answer is
    /// `400` (problem+json for JSON clients) or the lockout once the IP is over its limit. Every method counts.
    ///
    /// ```swift
    /// struct LoginForm: Decodable { var username: String; var password: String }
    ///
    /// router.post("login") { request, context in
    ///     try await defender.watchLogin(LoginForm.self, username: \.username, request: request, context: context) { form in
    ///         guard try await users.check(form.username, form.password) else { return Response(status: .unauthorized) }
    ///         return Response(status: .seeOther, headers: [.location: "/"])
    ///     }
    /// }
    /// ```
    public func watchLogin<Credentials: Decodable & Sendable, Context: DefenderRequestContext>(
        _ credentials: Credentials.Type, username: KeyPath<Credentials, String>, request: Request, context: Context,
        outcome: LoginOutcome = .redirectMeansSuccess, format: LockoutResponseFormat = .automatic, maxBodySize: Int? = nil,
        _ handler: (Credentials) async throws -> Response
    ) async throws -> Response {
        try await watchDecodedLogin(
            credentials, username: { $0[keyPath: username] }, request: request, context: context, outcome: outcome, format: format,
            maxBodySize: maxBodySize, handler)
    }

    /// The same, for credentials whose username may be absent (`String?`): a body without one counts against the
    /// IP alone, and the handler runs (and should answer with a failed login).
    public func watchLogin<Credentials: Decodable & Sendable, Context: DefenderRequestContext>(
        _ credentials: Credentials.Type, username: KeyPath<Credentials, String?>, request: Request, context: Context,
        outcome: LoginOutcome = .redirectMeansSuccess, format: LockoutResponseFormat = .automatic, maxBodySize: Int? = nil,
        _ handler: (Credentials) async throws -> Response
    ) async throws -> Response {
        try await watchDecodedLogin(
            credentials, username: { $0[keyPath: username] }, request: request, context: context, outcome: outcome, format: format,
            maxBodySize: maxBodySize, handler)
    }

    func watchDecodedLogin<Credentials: Decodable & Sendable, Context: DefenderRequestContext>(
        _ credentials: Credentials.Type, username: (Credentials) -> String?, request: Request, context: Context,
        outcome: LoginOutcome, format: LockoutResponseFormat, maxBodySize: Int?, _ handler: (Credentials) async throws -> Response
    ) async throws -> Response {
        var login = login(request, context, maxBodySize: maxBodySize)
        return try await login.protectCredentials(credentials, username: username, classify: outcome.classify, format: format, handler)
    }

    /// Counts this request as an attempt against its IP and username without any password check (a
    /// password-reset request, a sign-up), so that it is limited like a failed login.
    /// - Returns: the lockout when the request is locked or this attempt crossed a limit, else `nil`: go ahead.
    public func throttle<Context: DefenderRequestContext>(_ request: Request, context: inout Context, username: String?) async throws -> Lockout? {
        var login = login(request, context)
        defer { context = login.context }
        return try await login.countAttempt(username: username)
    }

    /// Runs a password-reset (or sign-up) handler under protection: every `POST` counts as an attempt against its
    /// IP and the username in the body, with no password to check, so a reset form cannot be used to enumerate or
    /// flood accounts faster than a login form; `GET`, `HEAD` and `OPTIONS` are only checked for a lock. Over the
    /// limit the answer is the lockout and `handler` is not called.
    /// - Parameters:
    ///   - request: the request.
    ///   - context: its context.
    ///   - format: the lockout response's format.
    ///   - maxBodySize: the largest body read; by default the context's `maxUploadSize`.
    ///   - source: where this route's requests carry the username; by default the app's.
    ///   - handler: gets the username Defender read (`nil` when none) and answers the same way whether or not the
    ///     account exists.
    public func watchPasswordReset<Context: DefenderRequestContext>(
        _ request: Request, context: Context, format: LockoutResponseFormat = .automatic, maxBodySize: Int? = nil,
        usernameFrom source: UsernameSource? = nil, _ handler: (String?) async throws -> Response
    ) async throws -> Response {
        var login = login(request, context, maxBodySize: maxBodySize)
        return try await login.protectPasswordReset(usernameFrom: source, format: format, handler)
    }
}
