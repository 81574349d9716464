import DefenderCore
import HTTPTypes

/// How one login's response is judged.
public enum LoginVerdict: Sendable, Hashable {
    /// The password was right: counters clear (as `DefenderConfiguration/successReset` says).
    case success
    /// The password was wrong: counted, and answered with the lockout when it crosses a limit.
    case failure
    /// Neither (a server error, a validation error): the admission slot is given back uncounted.
    case notCounted
}

/// The login-protection orchestration every integration shares (django-defender's `watch_login`): admit, run the
/// handler, classify its answer, record or release — with every record and release shielded from cancellation by
/// the engine. A framework adapter only translates its request and response types.
package enum LoginProtection {
    /// What became of a protected login.
    package enum Result<Response: Sendable>: Sendable {
        /// Refused (locked before, or this failure crossed a limit): answer with the lockout; for a refusal before
        /// the handler, it did not run.
        case locked(Lockout)
        /// The handler's answer, with the fields to add to it (`HTTPFields/addDefenderFields(_:)`): the
        /// `RateLimit` fields when they are on, and a success's device cookie when device cookies are on.
        case answered(Response, fields: HTTPFields)
    }

    /// A handler's thrown error that counted as a failed login, with the `RateLimit` fields for its answer.
    package struct CountedFailure: Error {
        package let error: any Error
        package let fields: HTTPFields
    }

    /// Admits a login (`Defender/check(ip:username:deviceCookieValues:context:)`), reading the audit context only
    /// for an admitted attempt and only when there is an audit log: refused requests are not logged, and the
    /// context costs header lookups and copies on the lockout path.
    /// - Parameter cookies: the request's `Cookie` field values, read only when device cookies are on.
    package static func admit(
        engine: Defender, client: ClientAddress, username: String?, cookies: () -> [String] = { [] }, context: () -> AttemptContext
    ) async throws -> Defender.Check {
        let check = try await engine.check(ip: client, username: username, deviceCookieValues: deviceCookieValues(engine, cookies))
        guard case .allowed(var attempt) = check, engine.accessLog != nil else { return check }
        attempt.context = context()
        return .allowed(attempt)
    }

    /// What checking credentials outside a login route gave (see ``checkCredentials(engine:admitted:verify:)``).
    package enum CredentialCheck<User: Sendable>: Sendable {
        /// Refused before `verify` ran, or the credentials were wrong and this failure crossed a limit.
        case locked(Lockout)
        /// The credentials were right: counters cleared.
        case verified(User)
        /// They were wrong: counted as a failed login.
        case failed
    }

    /// Checks credentials that arrive outside a protected login route (an operator's HTTP Basic credentials on
    /// the admin API) as a login: refused while locked, a wrong password counted, a right one clearing counters,
    /// and a thrown error giving the slot back uncounted.
    /// - Parameters:
    ///   - engine: the engine.
    ///   - admitted: the admission of this request (``admit(engine:client:username:context:)``).
    ///   - verify: the user for the credentials, or `nil` when they are wrong.
    package static func checkCredentials<User: Sendable>(
        engine: Defender, admitted: Defender.Check, verify: () async throws -> User?
    ) async throws -> CredentialCheck<User> {
        let attempt: LoginAttempt
        switch admitted {
        case .locked(let lockout): return .locked(lockout)
        case .allowed(let allowed): attempt = allowed
        }
        let user: User?
        do {
            user = try await verify()
        } catch {
            try? await engine.release(attempt)
            throw error
        }
        guard let user else {
            // The failure that crosses a limit is answered with the lockout, as on a protected login.
            if let lockout = try await engine.recordFailure(attempt) { return .locked(lockout) }
            return .failed
        }
        try await engine.recordSuccess(attempt)
        return .verified(user)
    }

    /// Runs `handler` for one login.
    /// - Parameters:
    ///   - engine: the engine.
    ///   - client: the client address.
    ///   - username: the username read once from the request (see the one-reading rule), `nil` when none.
    ///   - counted: whether this request is a login attempt (else it is only checked for a lock).
    ///   - expecting: the route (as registered) and where it reads the username, when it reads one: a success with
    ///     no username is then reported (`Defender/reportLoginWithoutUsername(route:source:)`); `nil` for a route
    ///     that counts addresses only on purpose (`UsernameSource/ipOnly`). Called only for such a success, so
    ///     that no login pays for building the labels.
    ///   - context: the audit details, read only for an admitted attempt when there is an audit log.
    ///   - handler: checks the password of `username` and answers.
    ///   - classify: judges the handler's answer.
    ///   - isFailure: whether an error the handler threw is a failed login (such as a thrown `401`).
    /// - Throws: `CountedFailure` for a thrown failure that did not cross a limit; any other error the handler
    ///   threw (its slot released); `DefenderError` from admission (timeout, store refusal).
    package static func protect<Response: Sendable>(
        engine: Defender, client: ClientAddress, username: String?, counted: Bool, cookies: () -> [String], isSecure: () -> Bool,
        expecting: () -> (route: String, source: String)?, context: () -> AttemptContext, handler: () async throws -> Response,
        classify: (Response) -> LoginVerdict, isFailure: (any Error) -> Bool
    ) async throws -> Result<Response> {
        guard counted else {
            let values = deviceCookieValues(engine, cookies)
            if let lockout = try await engine.lockout(ip: client, username: username, deviceCookieValues: values) { return .locked(lockout) }
            return .answered(try await handler(), fields: HTTPFields())
        }
        let attempt: LoginAttempt
        switch try await admit(engine: engine, client: client, username: username, cookies: cookies, context: context) {
        case .locked(let lockout): return .locked(lockout)
        case .allowed(let allowed): attempt = allowed
        }
        let config = engine.configuration
        let hasUsername = attempt.usernameKey != nil
        let response: Response
        do {
            response = try await handler()
        } catch where isFailure(error) {
            let result = try await engine.recordFailureDetails(attempt)
            if let lockout = result.lockout { return .locked(lockout) }
            var fields = HTTPFields()
            if config.rateLimitHeaders { RateLimitFields.addRemaining(to: &fields, config, policy: engine.policy(for: attempt), result: result, hasUsername: hasUsername, device: attempt.deviceKey != nil) }
            throw CountedFailure(error: error, fields: fields)
        } catch {
            try? await engine.release(attempt)
            throw error
        }
        var fields = HTTPFields()
        switch classify(response) {
        case .failure:
            let result = try await engine.recordFailureDetails(attempt)
            if let lockout = result.lockout { return .locked(lockout) }
            if config.rateLimitHeaders { RateLimitFields.addRemaining(to: &fields, config, policy: engine.policy(for: attempt), result: result, hasUsername: hasUsername, device: attempt.deviceKey != nil) }
        case .success:
            try await engine.recordSuccess(attempt)
            if username == nil, let expected = expecting() { engine.reportLoginWithoutUsername(route: expected.route, source: expected.source) }
            if config.rateLimitHeaders { RateLimitFields.addPolicy(to: &fields, config, hasUsername: hasUsername, device: attempt.deviceKey != nil) }
            if let deviceCookies = engine.deviceCookies, let username = attempt.usernameKey {
                // A fresh device on every success: the browser's identifier changes, and its counter starts clean.
                fields.append(HTTPField(name: .setCookie, value: deviceCookies.setCookie(deviceCookies.issue(for: username), secure: isSecure())))
            }
        case .notCounted:
            try await engine.release(attempt)
        }
        return .answered(response, fields: fields)
    }

    /// The device cookie's values in a request's `Cookie` fields; none when device cookies are off (the fields
    /// are then not read).
    static func deviceCookieValues(_ engine: Defender, _ cookies: () -> [String]) -> [String] {
        guard let deviceCookies = engine.deviceCookies else { return [] }
        return deviceCookies.values(inCookieFields: cookies())
    }
}

extension HTTPFields {
    /// Adds the fields of a protected login's answer (``LoginProtection/Result/answered(_:fields:)``): each
    /// `RateLimit` field replaces one the handler set, and a `Set-Cookie` is added beside the handler's own (its
    /// session cookie).
    package mutating func addDefenderFields(_ fields: HTTPFields) {
        for field in fields {
            if field.name == .setCookie { append(field) } else { self[field.name] = field.value }
        }
    }
}
