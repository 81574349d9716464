import DefenderHTTP
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import Vapor

extension Request {
    /// Defender's helpers for this request: the client address, the username, checks and the lockout response.
    public var defender: DefenderRequest { DefenderRequest(request: self) }
}

/// `req.defender`: django-defender's utils for one request.
public struct DefenderRequest: Sendable {
    let request: Request

    /// The engine of the application, looked up once per request.
    public func engine() throws -> Defender {
        let state = self.state
        if let engine = state.withLockedValue({ $0.engine }) { return engine }
        let engine = try request.application.defender.engine()
        state.withLockedValue { $0.engine = engine }
        return engine
    }

    /// What the helpers worked out for this request.
    struct Values {
        var engine: Defender?
        var client: ClientAddress?
        /// `.some(nil)`: read, and there is none.
        var username: String??
        /// Whether the body has one media type Defender reads (`prepareContentType()`, done once per request).
        var readableBody: Bool?
    }

    /// The request's values in one box stored once: Vapor's request storage copies itself on every write, and a
    /// profile of the lockout path found those copies and lookups among its costs.
    struct StateKey: StorageKey { typealias Value = NIOLockedValueBox<Values> }

    var state: NIOLockedValueBox<Values> {
        if let state = request.storage[StateKey.self] { return state }
        let state = NIOLockedValueBox(Values())
        request.storage[StateKey.self] = state
        return state
    }

    /// The client, resolved once per request (see `ClientIPResolver`).
    /// - Throws: `DefenderError` with `DefenderError/Code/malformedForwardingHeader` (answered `400`) when a
    ///   trusted proxy forwarded a header whose client entry is not an address.
    public func client() throws -> ClientAddress {
        let state = self.state
        if let cached = state.withLockedValue({ $0.client }) { return cached }
        let headers = request.headers
        let client = try engine().resolver.client(peer: request.remoteAddress) { name in headers[name] }
        state.withLockedValue { $0.client = client }
        return client
    }

    /// The submitted username, read once per request: from the route's `source` when it gives one, else the
    /// app's extractor, else `DefenderConfiguration/usernameSource` — a path parameter, or the body field
    /// `DefenderConfiguration/usernameFormField` read with the app's own content decoder for the request's media
    /// type (the reading `req.content.decode` gives), or none for `UsernameSource/ipOnly`. A body that does not
    /// decode, a missing field and a value that is not a string give `nil`: no username, only the IP is counted.
    /// - Parameter source: where this route's requests carry the username; by default the app's.
    public func username(from source: UsernameSource? = nil) async throws -> String? {
        let state = self.state
        if let cached = state.withLockedValue({ $0.username }) { return cached }
        let username: String?
        if source == nil, let extractor = request.application.defender.usernameExtractor {
            username = try await extractor(request)
        } else {
            username = try await read(UsernameReading(route: source, configuration: try engine().configuration))
        }
        state.withLockedValue { $0.username = .some(username) }
        return username
    }

    /// Admits this request as a login (see `Defender/check(ip:username:context:)`), with its details for the
    /// audit log. Every `.allowed` attempt must end in the engine's `recordFailure`, `recordSuccess` or `release`.
    /// - Parameter username: by default the one the request submitted.
    public func check(username: String?? = .none) async throws -> Defender.Check {
        var login = self
        return try await login.admit(username: submitted(username))
    }

    /// The request's details for the audit log.
    public var context: AttemptContext {
        AttemptContext(userAgent: request.headers[.userAgent], accept: request.headers[.accept], path: request.url.path)
    }

    /// Whether this request's IP or username is locked now (django-defender's `is_already_locked`). Reserves
    /// nothing.
    /// - Parameter username: the username to check; by default the one the request submitted.
    /// - Returns: the lockout, or `nil` when the request may go ahead.
    public func lockout(username: String?? = .none) async throws -> Lockout? {
        var login = self
        return try await login.currentLockout(username: submitted(username))
    }

    /// Runs a login handler under protection (django-defender's `watch_login`), race-free.
    ///
    /// A `POST` (any method but `GET`, `HEAD` and `OPTIONS`) is admitted first (see `Defender/check(ip:username:context:)`): a locked request gets the lockout
    /// response and the handler is not called; a request that could be locked by checks in flight on its IP or
    /// username waits for them. The handler's response is then classified by `outcome`: a failure is counted
    /// (and answered with the lockout response when it crosses a limit), a success clears counters. A handler
    /// that throws a `401` `AbortError` counts as a failure; other thrown errors, cancellation and responses
    /// classified `LoginVerdict.notCounted` give the slot back uncounted. Other methods are only
    /// checked for a lock, never counted.
    ///
    /// A login that succeeds with no username read means the route reads it from the wrong place: it is
    /// reported (a warning naming the route, `defender_logins_without_username_total`), never silently counted
    /// by address alone — give such a route its `usernameFrom`, or `.ipOnly` when that is intended.
    /// - Parameters:
    ///   - source: where this route's requests carry the username (`.formField`, `.pathParameter("name")`,
    ///     `.ipOnly`); by default the app's extractor or `DefenderConfiguration/usernameSource`.
    ///   - outcome: how to tell a failed login from a successful one.
    ///   - format: the lockout response's format.
    ///   - handler: the login handler; it receives the submitted username.
    /// - Returns: the handler's response, the lockout response, or Defender's own answer to its errors — `503`
    ///   with `Retry-After: 1` when the wait for checks in flight exceeds `DefenderConfiguration/admissionTimeout`,
    ///   `503` while the store refuses (the `closed` policy), `400` for a forwarding header with no address —
    ///   as problem+json, the same in every integration.
    /// - Throws: whatever the handler throws (except a `DefenderError`, answered as above).
    public func watchLogin(
        usernameFrom source: UsernameSource? = nil,
        outcome: LoginOutcome = .redirectMeansSuccess,
        format: LockoutResponseFormat = .automatic,
        _ handler: @Sendable (String?) async throws -> Response
    ) async throws -> Response {
        var login = self
        return try await login.protectLogin(usernameFrom: source, classify: outcome.classify, format: format) { try await handler($1) }
    }

    /// How the username of this request is read, for the report of a route that reads none (`nil` for
    /// `UsernameSource/ipOnly`: none is expected).
    package func sourceDescription(_ source: UsernameSource?) -> String? {
        if source == nil, request.application.defender.usernameExtractor != nil { return "usernameExtractor" }
        guard let engine = try? engine() else { return nil }
        return UsernameReading.expected(route: source, configuration: engine.configuration)
    }

    /// The route as registered (`/users/:name/login`): a label a client cannot choose.
    package var routeLabel: String {
        request.route.map { DefenderLoginMiddleware.path(of: $0, caseInsensitive: false) } ?? "(unrouted)"
    }

    /// Records the outcome of a login checked elsewhere (django-defender's `check_request`), judged as `lockout()`
    /// judges it (a trusted device cookie, the allow and deny lists, the dry run). The password was checked before
    /// this call, so nothing is reserved: prefer `watchLogin(usernameFrom:outcome:format:_:)`, which admits before
    /// the check. It sets no device cookie (`watchLogin` does).
    /// - Returns: the lockout when the request is locked, or when this failure crossed a limit.
    @discardableResult
    public func record(success: Bool, username: String?? = .none) async throws -> Lockout? {
        var login = self
        return try await login.recordChecked(success: success, username: submitted(username))
    }

    /// Counts this request as an attempt against its IP and username without any password check — a
    /// password-reset request, a sign-up, a malformed login — so that it is limited like a failed login.
    /// - Parameter username: by default the one the request submitted.
    /// - Returns: the lockout when the request is locked or this attempt crossed a limit (answer with
    ///   `lockoutResponse(_:format:)`), else `nil`: go ahead.
    public func throttle(username: String?? = .none) async throws -> Lockout? {
        var login = self
        return try await login.countAttempt(username: submitted(username))
    }

    /// Runs a password-reset handler (django-defender's README recipe): a `POST` counts against the IP and the
    /// submitted username whether or not the account exists, and over the limit gets the lockout response; other
    /// methods are only checked for a lock. The handler should answer the same way for every username, so that
    /// it does not tell which accounts exist.
    /// - Parameters:
    ///   - source: where this route's requests carry the username; by default the app's.
    ///   - format: the lockout response's format.
    ///   - handler: gets the username Defender read (`nil` when none).
    public func watchPasswordReset(
        usernameFrom source: UsernameSource? = nil, format: LockoutResponseFormat = .automatic,
        _ handler: @Sendable (String?) async throws -> Response
    ) async throws -> Response {
        var login = self
        return try await login.protectPasswordReset(usernameFrom: source, format: format, handler)
    }

    /// `username` when the caller gave one (`.some(nil)`: none), else the one the request submitted.
    private func submitted(_ username: String??) async throws -> String? {
        if let username { return username }
        return try await self.username()
    }

    /// Sets the username other helpers read (when an authenticator parsed it from a header).
    package func cacheUsername(_ username: String?) {
        state.withLockedValue { $0.username = .some(username) }
    }

}


extension DefenderRequest {
    /// Whether the client reached the site over TLS: the server itself speaks TLS, or — with
    /// `DefenderConfiguration/behindReverseProxy` and from a trusted proxy only — the proxy says so with
    /// `X-Forwarded-Proto: https` or `Forwarded: proto=https` (the nearest proxy's entry). Cookies set for such
    /// a request should be `Secure`. A header from an untrusted peer is ignored, as for the client address.
    public var isSecure: Bool {
        if request.application.http.server.configuration.tlsConfiguration != nil { return true }
        guard let engine = try? engine() else { return false }
        let headers = request.headers
        return engine.resolver.forwardedHTTPS(peer: request.remoteAddress) { headers[$0] }
    }
}
