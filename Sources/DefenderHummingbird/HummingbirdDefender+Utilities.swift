import DefenderHTTP
import Hummingbird

/// django-defender's utils, for a flow that does not fit `watchLogin` (see `req.defender` in `DefenderVapor`): each
/// judges the request as a protected login does (its device cookie, the allow and deny lists, the dry run).
extension HummingbirdDefender {
    /// Admits this request as a login (see `Defender/check(ip:username:deviceCookieValues:context:)`), with its
    /// details for the audit log. Every `.allowed` attempt must end in the engine's `recordFailure`,
    /// `recordSuccess` or `release`.
    /// - Parameters:
    ///   - request: the request.
    ///   - context: its context; its client address is kept there.
    ///   - username: the submitted username (`nil`: none).
    /// - Throws: `DefenderError` when the store cannot be reached or a trusted proxy's forwarding header is
    ///   malformed; `503` when admission waits too long.
    public func check<Context: DefenderRequestContext>(_ request: Request, context: inout Context, username: String?) async throws -> Defender.Check {
        var login = login(request, context)
        defer { context = login.context }
        return try await login.admit(username: username)
    }

    /// Whether this request is locked now (django-defender's `is_already_locked`); reserves nothing.
    /// - Parameters:
    ///   - request: the request.
    ///   - context: its context; its client address is kept there.
    ///   - username: the submitted username (`nil`: none).
    /// - Returns: the lockout (answer with `lockoutResponse(_:request:format:)`), or `nil`: go ahead.
    public func lockout<Context: DefenderRequestContext>(_ request: Request, context: inout Context, username: String?) async throws -> Lockout? {
        var login = login(request, context)
        defer { context = login.context }
        return try await login.currentLockout(username: username)
    }

    /// Records the outcome of a password checked elsewhere (django-defender's `check_request`): a locked request
    /// is not recorded; a failure is counted, a success clears counters. Nothing was reserved before the check,
    /// so concurrent guesses are not held back: prefer `watchLogin`, which admits first. It sets no device cookie.
    /// - Parameters:
    ///   - success: whether the password was right.
    ///   - request: the request.
    ///   - context: its context; its client address is kept there.
    ///   - username: the submitted username (`nil`: none).
    /// - Returns: the lockout when the request is locked or this failure crossed a limit, else `nil`.
    @discardableResult
    public func record<Context: DefenderRequestContext>(
        success: Bool, _ request: Request, context: inout Context, username: String?
    ) async throws -> Lockout? {
        var login = login(request, context)
        defer { context = login.context }
        return try await login.recordChecked(success: success, username: username)
    }
}
