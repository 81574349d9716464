import CoreMetrics
import Foundation
import Logging

/// Device cookies in the engine: which attempts are trusted, and the rules their store calls follow.
extension Defender {
    /// The rules for an attempt's store calls: a trusted client's username dimension is its device, with the
    /// device's limit (``DefenderConfiguration/deviceFailureLimit``) and the long window of a username
    /// (``LockoutPolicy/trustingDevice(limit:)``).
    public func policy(for attempt: LoginAttempt) -> LockoutPolicy {
        attempt.deviceKey == nil ? policy : trustedPolicy
    }

    /// Trusts `attempt` when one of `cookieValues` is a valid device cookie for its username. Nothing is trusted
    /// when device cookies are off, with no username, or when username lockouts are off (nothing to spare the
    /// owner from) — nor while an operator has blocked the username: a device cookie spares the owner the
    /// lockouts an attacker causes, not an administrator's decision (a stolen account keeps no way in through
    /// the cookies it collected). That check is one more store read, for requests with a valid cookie only.
    func trustDevice(of attempt: inout LoginAttempt, cookieValues: [String]) async throws {
        guard let deviceCookies, !cookieValues.isEmpty, let username = attempt.usernameKey, !policy.disableUsernameLockout else { return }
        let now = Date()
        guard let device = cookieValues.lazy.compactMap({ deviceCookies.device(from: $0, for: username, now: now) }).first else { return }
        let store = self.store
        // Trusted only when the username's state can be read: during an outage an operator's block of it cannot be
        // ruled out, so the cookie is not trusted and the attempt is judged like any other client's.
        let state: KeyState
        do {
            state = try await metrics.time(metrics.storeCheck) { try await store.state(of: username) }
        } catch let error as DefenderError where error.code == .storeUnavailable || error.code == .storeFault {
            return
        }
        if state.block?.isManual == true { return }
        attempt.deviceKey = device
        attempt.usernameLockedWhenTrusted = state.block != nil
    }

    /// Whether `lockout` refused a trusted attempt because its device is locked; the attempt is then judged
    /// like any other client's (its device forgotten), and the caller asks again.
    func distrustLockedDevice(of attempt: inout LoginAttempt, _ lockout: Lockout) -> Bool {
        guard let device = attempt.deviceKey, lockout.keys.contains(device) else { return false }
        attempt.deviceKey = nil
        return true
    }

    /// The store's answer to "is this attempt locked?", with a locked device judged like any other client.
    func storeLockout(of attempt: inout LoginAttempt) async throws -> Lockout? {
        while true {
            let (ip, username, policy) = (attempt.ipKey, attempt.countedUsernameKey, self.policy(for: attempt))
            let lockout = try await metrics.time(metrics.storeCheck) { try await store.check(ip: ip, username: username, policy: policy) }
            guard let lockout, distrustLockedDevice(of: &attempt, lockout) else { return lockout }
        }
    }

    /// After a trusted client's success: when its username was locked (as read when the device was trusted, so that
    /// the success costs no store read beyond the step), the owner got in despite the lockout — which stays in
    /// force for everyone else — so it is counted and announced.
    func noteTrustedSuccess(_ attempt: LoginAttempt) {
        guard let username = attempt.usernameKey, attempt.usernameLockedWhenTrusted else { return }
        metrics.trustedLoginsDuringLockout.increment()
        events.emit(.trustedLoginDuringLockout(username: username.value))
        logger.notice("trusted device logged in during a username lockout", metadata: ["username": shown(username.value)])
    }
}
