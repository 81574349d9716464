/// A block as the lockout rule sees it: whose it is, whether it locks in every mode, and how long it has left.
///
/// The memory store builds these from its entries, and the Redis store's local cache of known blocks from what its
/// scripts answered, so that both decide a lockout with the one rule, ``LockoutPolicy/lockout(ip:username:)``.
package struct ActiveBlock: Sendable, Hashable {
    /// The blocked key.
    package var key: DefenderKey
    /// A manual or password-spraying block: it locks whatever the mode (AND mode, disabled dimensions).
    package var locksInEveryMode: Bool
    /// Time left; `nil` until an operator unblocks.
    package var remaining: Duration?

    package init(key: DefenderKey, locksInEveryMode: Bool, remaining: Duration?) {
        self.key = key
        self.locksInEveryMode = locksInEveryMode
        self.remaining = remaining
    }
}

extension LockoutPolicy {
    /// The lockout for the blocks of a request's IP and username, or `nil` when they do not lock it.
    ///
    /// Manual and spraying blocks lock in every mode; automatic ones as the mode says (AND mode needs both, a
    /// disabled dimension never locks). The lockout names every block that locks the request, and lifts when the
    /// request is free again: after the last of them, except that in AND mode two automatic blocks stop locking when
    /// either lifts. (An operator's short block beside a permanent automatic one is no promise of a retry: it
    /// once named only the manual block and its time, and a client that came back then was refused again.) The
    /// Redis scripts' `decide` is this rule's Lua twin; the store differential test runs both on the same sequences.
    ///
    /// `address` is a shared address's own block beside its pair's (`ip`): only an every-mode block of the address
    /// (an operator's, spraying) refuses its pairs; an automatic one (from logins without a username, or from before
    /// the address was shared) does not, so that nobody behind the address can lock it for the others.
    package func lockout(ip: ActiveBlock?, username: ActiveBlock?, address: ActiveBlock? = nil) -> Lockout? {
        let everyMode = [address, ip, username].compactMap { $0 }.filter(\.locksInEveryMode)
        let ipBlocked = ip != nil && !disableIPLockout
        let userBlocked = username != nil && !disableUsernameLockout
        let modeLocks = isLocked(ipBlocked: ipBlocked, usernameBlocked: userBlocked)
        var automatic: [ActiveBlock] = []
        if modeLocks {
            if ipBlocked, let ip, !ip.locksInEveryMode { automatic.append(ip) }
            if userBlocked, let username, !username.locksInEveryMode { automatic.append(username) }
        }
        guard !everyMode.isEmpty || !automatic.isEmpty else { return nil }
        // When each part stops locking (`nil`: never by itself): every-mode blocks when they lift; the mode's part in
        // AND mode as soon as either dimension's block lifts, otherwise when the last automatic one does.
        var lifts: [Duration?] = everyMode.map(\.remaining)
        if modeLocks, let ip, let username, lockOutByIPAndUsername, !disableIPLockout, !disableUsernameLockout {
            lifts.append([ip.remaining, username.remaining].compactMap { $0 }.min())
        } else {
            lifts += automatic.map(\.remaining)
        }
        let retry = lifts.contains { $0 == nil } ? nil : lifts.compactMap { $0 }.max()
        // The address, then the IP dimension (an address or a pair), then the username: the scripts' order.
        func rank(_ block: ActiveBlock) -> Int { block == address ? 0 : block.key.kind == .username ? 2 : 1 }
        let keys = (everyMode + automatic).sorted { rank($0) < rank($1) }.map(\.key)
        return Lockout(keys: keys, retryAfter: retry)
    }
}

/// A store that remembers blocks locally and can answer for them without its backend (the Redis store's cache of
/// known blocks). ``FallbackAttemptStore`` asks it first while the backend is skipped during an outage, so a known
/// attacker stays blocked, and tells it about operators' blocks and unblocks made meanwhile.
package protocol KnownBlocks: Sendable {
    /// The lockout that the blocks known here decide, without a round trip; `nil` when they do not lock.
    func knownLockout(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) -> Lockout?
    /// Drops what is known of `key` (an operator blocked or unblocked it).
    func forget(_ key: DefenderKey)
}

/// A store that can say, without a round trip, whether an address alone is locked: the memory store (in process)
/// and the Redis store (its cache of known blocks). ``Defender/lockoutByAddress(_:)`` asks only such stores, so
/// that the refusal by address never adds a round trip to a login that goes on to admission.
package protocol LocalAddressLockouts: Sendable {
    /// The address's lockout as known here (for any username: the caller has ruled out what a username could
    /// change); `nil` when none is known, which is not a promise that there is none.
    func localLockout(ip: DefenderKey, policy: LockoutPolicy) async throws -> Lockout?
}

extension MemoryAttemptStore: LocalAddressLockouts {
    package func localLockout(ip: DefenderKey, policy: LockoutPolicy) async throws -> Lockout? {
        try await check(ip: ip, username: nil, policy: policy)
    }
}

extension FallbackAttemptStore: LocalAddressLockouts {
    /// The shared store's local answer while it is in use; nothing during an outage (the usual path applies the
    /// outage policy).
    package func localLockout(ip: DefenderKey, policy: LockoutPolicy) async throws -> Lockout? {
        guard !isSkippingPrimary, let local = primary as? any LocalAddressLockouts else { return nil }
        return try await local.localLockout(ip: ip, policy: policy)
    }
}
