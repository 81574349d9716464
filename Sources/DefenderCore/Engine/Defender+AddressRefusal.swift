import CoreMetrics
import Tracing

/// The refusal that needs no username: under attack nearly every request comes from an address that is already
/// blocked, and reading, normalising and reserving its username changes nothing about the answer.
extension Defender {
    /// The lockout of a request whose address alone refuses it, whatever username it carries; `nil` when the
    /// username could change the answer, so the caller reads it and goes through
    /// ``check(ip:username:deviceCookieValues:context:)`` as usual.
    ///
    /// It answers only when no username can: the address is not on an allow or deny list and not in a shared
    /// range (whose IP dimension is a pair with the username); no username is allow- or deny-listed; it is no dry
    /// run; and the store says, without a round trip (the memory store; the Redis store's cache of known blocks),
    /// that the address is locked with no username at all — its own block outside AND mode, or a block that locks
    /// in every mode (an operator's, spraying). A device cookie changes nothing here: a trusted
    /// client still meets IP blocks. The answer's `Retry-After` is the address's remaining time (a username that
    /// is blocked for longer is not read, so not named).
    /// - Parameter ip: the client, from ``resolver``.
    public func lockoutByAddress(_ ip: ClientAddress) async throws -> Lockout? {
        guard refusesByAddress, !sharedRanges.contains(ip.address), accessLists.decision(ip: ip.address, username: nil) == .unlisted else {
            return nil
        }
        // Only a store that answers without a round trip: a login that is not refused here goes on to admission,
        // which must stay its one round trip.
        guard let store = store as? any LocalAddressLockouts else { return nil }
        let ipKey = LoginAttempt(ip: ip, submittedUsername: nil).ipKey
        let policy = self.policy
        let lockout = try await traced("defender.check", {
            try await store.localLockout(ip: ipKey, policy: policy)
        }) { lockout, span in
            if lockout != nil { span.attributes["defender.outcome"] = "locked" }
        }
        if lockout != nil { metrics.refused.increment() }
        return lockout
    }

    /// Whether the settings let an address refuse a request on its own (see ``lockoutByAddress(_:)``).
    var refusesByAddress: Bool {
        !configuration.dryRun && configuration.usernameAllowlist.isEmpty && configuration.usernameDenylist.isEmpty
    }
}
