import DefenderCore

/// django-defender's utils for views that do not fit a protected login (`is_already_locked`, `check_request`, an
/// admission for a custom flow), once for every framework: each judges the request as a protected login does —
/// its device cookie, the allow and deny lists, the dry run — so that "is it locked?" and "record what happened"
/// cannot disagree.
extension LoginRequest {
    /// Admits this request as a login (`Defender/check(ip:username:deviceCookieValues:context:)`), with its details
    /// for the audit log. Every `.allowed` attempt must end in the engine's `recordFailure`, `recordSuccess` or
    /// `release`.
    package mutating func admit(username: String?) async throws -> Defender.Check {
        let current = self
        return try await LoginProtection.admit(
            engine: engine(), client: client(), username: username, cookies: { current.cookieFields }, context: { current.attemptContext })
    }

    /// Whether this request is locked now (django-defender's `is_already_locked`); reserves nothing.
    package mutating func currentLockout(username: String?) async throws -> Lockout? {
        let engine = try engine()
        let current = self
        return try await engine.lockout(
            ip: client(), username: username, deviceCookieValues: LoginProtection.deviceCookieValues(engine, { current.cookieFields }))
    }

    /// Records the outcome of a password checked elsewhere (django-defender's `check_request`): a locked request
    /// is not recorded and gets its lockout; otherwise a failure is counted (its lockout returned when it crossed
    /// a limit) and a success clears counters. Nothing was reserved before the check, so concurrent guesses are
    /// not held back: a protected login is the race-free way.
    package mutating func recordChecked(success: Bool, username: String?) async throws -> Lockout? {
        let engine = try engine()
        let current = self
        let (lockout, attempt) = try await engine.judge(
            ip: client(), username: username, deviceCookieValues: LoginProtection.deviceCookieValues(engine, { current.cookieFields }),
            context: engine.accessLog != nil ? attemptContext : nil)
        if let lockout { return lockout }
        if success {
            try await engine.recordSuccess(attempt)
            return nil
        }
        return try await engine.recordFailure(attempt)
    }
}
