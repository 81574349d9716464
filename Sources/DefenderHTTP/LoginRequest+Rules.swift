import DefenderCore
import HTTPTypes
import Logging

/// The rules of a protected login, once for every framework (see ``LoginRequest``).
extension LoginRequest {
    /// django-defender's `watch_login`: a blocked address is refused before the body is read, the username is read
    /// once (from `source`), and the handler runs under ``protectAnswer(username:counted:expecting:classify:format:_:)``
    /// with that username.
    /// `GET`, `HEAD` and `OPTIONS` are only checked for a lock.
    package mutating func protectLogin(
        usernameFrom source: UsernameSource?, classify: (Response) -> LoginVerdict, format: LockoutResponseFormat,
        _ handler: (Self, String?) async throws -> Response
    ) async throws -> Response {
        let entry = self
        return try await Self.answeringErrors(of: entry, format: format) {
            if let lockout = try await refusalByAddress() { return try await lockoutResponse(lockout, format: format) }
            let username = try await username(from: source)
            // Described only for a success without a username (the report), so that no login pays for the label.
            let current = self
            return try await protectAnswer(
                username: username, counted: LoginProtection.isAttempt(method: methodName), expecting: { current.sourceDescription(source) },
                classify: classify, format: format) { login in try await appCode { try await handler(login, username) } }
        }
    }

    /// A login whose credentials Defender decodes once, as `Credentials`: the username `username` reads from them
    /// is the one counted and the handler gets exactly what was decoded. A body that does not decode names nobody:
    /// it is counted against the IP alone, the handler does not run, and the answer is `400` (or the lockout).
    /// Every method counts: a handler handed credentials checks them.
    package mutating func protectCredentials<Credentials: Decodable & Sendable>(
        _: Credentials.Type, username: (Credentials) -> String?, classify: (Response) -> LoginVerdict, format: LockoutResponseFormat,
        _ handler: (Credentials) async throws -> Response
    ) async throws -> Response {
        let entry = self
        return try await Self.answeringErrors(of: entry, format: format) {
            if let lockout = try await refusalByAddress() { return try await lockoutResponse(lockout, format: format) }
            guard let credentials = try await credentials(Credentials.self) else {
                cacheUsername(nil)
                if let lockout = try await countAttempt(username: nil) { return try await lockoutResponse(lockout, format: format) }
                return response(HTTPAnswer.unreadableCredentials(json: isJSON(format)))
            }
            let name = username(credentials)
            cacheUsername(name)
            return try await protectAnswer(
                username: name, counted: true, expecting: { "\(Credentials.self)" }, classify: classify, format: format
            ) { _ in try await appCode { try await handler(credentials) } }
        }
    }

    /// A password reset or sign-up (django-defender's README recipe): an attempt counts against the IP and the
    /// submitted username with no password to check, and over the limit gets the lockout; `GET`, `HEAD` and
    /// `OPTIONS` are only checked for a lock.
    package mutating func protectPasswordReset(
        usernameFrom source: UsernameSource?, format: LockoutResponseFormat, _ handler: (String?) async throws -> Response
    ) async throws -> Response {
        let entry = self
        return try await Self.answeringErrors(of: entry, format: format) {
            let username = try await username(from: source)
            let lockout =
                LoginProtection.isAttempt(method: methodName)
                ? try await countAttempt(username: username) : try await engine().lockout(ip: client(), username: username)
            if let lockout { return try await lockoutResponse(lockout, format: format) }
            return try await appCode { try await handler(username) }
        }
    }

    /// Counts this request as a failed attempt without a password check (django-defender's throttling of a
    /// password reset). Not trusted through a device cookie: it counts against the username itself.
    /// - Returns: the lockout when the request is locked or this attempt crossed a limit, else `nil`.
    package mutating func countAttempt(username: String?) async throws -> Lockout? {
        let engine = try engine()
        let client = try client()
        let current = self
        switch try await LoginProtection.admit(engine: engine, client: client, username: username, context: { current.attemptContext }) {
        case .locked(let lockout): return lockout
        case .allowed(let attempt): return try await engine.recordFailure(attempt)
        }
    }

    /// Runs a login handler under `LoginProtection/protect`, answering a refusal with the lockout response and a
    /// handler's answer with Defender's fields.
    package mutating func protectAnswer(
        username: String?, counted: Bool, expecting: () -> String?, classify: (Response) -> LoginVerdict, format: LockoutResponseFormat,
        _ handler: (Self) async throws -> Response
    ) async throws -> Response {
        switch try await protect(username: username, counted: counted, expecting: expecting, classify: classify, handler) {
        case .locked(let lockout): return try await lockoutResponse(lockout, format: format)
        case .answered(let answer, let fields): return response(answer, adding: fields)
        }
    }

    /// Runs a handler whose result is judged by `classify` (a login's response, or a Basic authenticator's user)
    /// under `LoginProtection/protect`, with this request's client, cookies, audit context and failure rule. A
    /// thrown failed login that did not lock is thrown again with the `RateLimit` fields, when they are on.
    package mutating func protect<Value: Sendable>(
        username: String?, counted: Bool, expecting: () -> String?, classify: (Value) -> LoginVerdict, _ handler: (Self) async throws -> Value
    ) async throws -> LoginProtection.Result<Value> {
        let engine = try engine()
        let client = try client()
        let current = self
        do {
            return try await LoginProtection.protect(
                engine: engine, client: client, username: username, counted: counted, cookies: { current.cookieFields },
                isSecure: { current.isSecure }, expecting: { expecting().map { (current.routeLabel, $0) } }, context: { current.attemptContext },
                handler: { try await handler(current) }, classify: classify, isFailure: { current.isFailedLogin(AppCodeError.unwrapped($0)) })
        } catch let failure as LoginProtection.CountedFailure {
            let error = AppCodeError.unwrapped(failure.error)
            throw AppCodeError(error: failure.fields.isEmpty ? error : current.error(error, adding: failure.fields))
        }
    }

    /// The lockout of the client's address, when it alone refuses the request (see
    /// `Defender/lockoutByAddress(_:)`): under attack nearly every request is answered here, before its body is
    /// read or a username normalised.
    package mutating func refusalByAddress() async throws -> Lockout? {
        try await engine().lockoutByAddress(client())
    }
}
