import CoreMetrics
import Logging

/// "Is this login locked?" without reserving anything, and the judgement it shares with a login recorded after
/// its password was checked elsewhere (django-defender's `is_already_locked` and `check_request`).
extension Defender {
    /// Whether a login is locked now, without reserving anything (django-defender's `is_already_locked`).
    public func lockout(ip: ClientAddress, username: String?) async throws -> Lockout? {
        try await lockout(ip: ip, username: username, deviceCookieValues: [])
    }

    /// Whether a login is locked now, trusting a valid device cookie as ``check(ip:username:deviceCookieValues:context:)`` does.
    public func lockout(ip: ClientAddress, username: String?, deviceCookieValues: [String]) async throws -> Lockout? {
        try await judge(ip: ip, username: username, deviceCookieValues: deviceCookieValues).lockout
    }

    /// Whether a login is locked now, and the attempt to record when it is not (reserving nothing): one
    /// judgement for "is it locked?" and "record what happened", so that the two cannot disagree about a device
    /// cookie, an allow list (an allow-listed attempt is exempt: logged, never counted) or the dry run.
    package func judge(
        ip: ClientAddress, username: String?, deviceCookieValues: [String], context: AttemptContext? = nil
    ) async throws -> (lockout: Lockout?, attempt: LoginAttempt) {
        var attempt = self.attempt(ip: ip, username: username, context: context)
        switch accessLists.decision(ip: ip.address, username: attempt.usernameKey) {
        case .denied: return (denied(attempt), attempt)
        case .allowed:
            attempt.isExempt = true
            return (nil, attempt)
        case .unlisted: break
        }
        try await trustDevice(of: &attempt, cookieValues: deviceCookieValues)
        let lockout = try await storeLockout(of: &attempt)
        if lockout != nil, configuration.dryRun {
            wouldLock(attempt)
            return (nil, attempt)
        }
        return (lockout, attempt)
    }

    /// The lockout of a deny-listed request: permanent, naming the listed keys.
    func denied(_ attempt: LoginAttempt) -> Lockout {
        metrics.denied.increment()
        log(.info, "login refused: deny-listed address or username", attempt, budget: deniedLines)
        return Lockout(keys: [.ip(attempt.ip)] + (attempt.usernameKey.map { [$0] } ?? []), retryAfter: nil, reason: .denylisted)
    }

    /// Counts and logs a lockout a dry run did not enforce.
    func wouldLock(_ attempt: LoginAttempt) {
        metrics.dryRunLockouts.increment()
        log(.notice, "dry run: this login would be locked out", attempt, budget: dryRunLines)
    }
}
