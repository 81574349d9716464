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
    /// disabled dimension never locks). The Redis scripts' `decide` is this rule's Lua twin; the store
    /// differential test runs both on the same sequences.
    package func lockout(ip: ActiveBlock?, username: ActiveBlock?) -> Lockout? {
        let manual = [ip, username].compactMap { $0 }.filter(\.locksInEveryMode)
        if !manual.isEmpty { return Lockout(keys: manual.map(\.key), retryAfter: Self.latest(manual)) }
        let ipBlocked = ip != nil && !disableIPLockout
        let userBlocked = username != nil && !disableUsernameLockout
        guard isLocked(ipBlocked: ipBlocked, usernameBlocked: userBlocked) else { return nil }
        var applying: [ActiveBlock] = []
        if ipBlocked, let ip { applying.append(ip) }
        if userBlocked, let username { applying.append(username) }
        // In AND mode the request is free again as soon as either block lifts; otherwise when the last does.
        let bothRequired = lockOutByIPAndUsername && !disableIPLockout && !disableUsernameLockout
        let retry = bothRequired ? applying.compactMap(\.remaining).min() : Self.latest(applying)
        return Lockout(keys: applying.map(\.key), retryAfter: retry)
    }

    private static func latest(_ blocks: [ActiveBlock]) -> Duration? {
        var result = Duration.zero
        for block in blocks {
            guard let remaining = block.remaining else { return nil }
            result = max(result, remaining)
        }
        return result
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
