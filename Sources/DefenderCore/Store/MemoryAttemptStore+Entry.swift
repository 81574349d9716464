// One key's record in the memory store: its counter, block, lockout history, spraying and long window.

struct Block {
    /// `nil`: until unblocked.
    var expires: Duration?
    var isManual: Bool
    /// Set by password-spraying detection; like a manual block it locks in every mode.
    var isSpray = false

    /// Whether it locks whatever the mode (AND mode, disabled dimensions).
    var locksInEveryMode: Bool { isManual || isSpray }

    func isActive(at now: Duration) -> Bool { expires.map { $0 > now } ?? true }
}

/// A failure within the long window.
struct LongFailure {
    let at: Duration
    /// For an IP's failure under ``SuccessReset/own``, a tag of the username that failed, so that its success can
    /// forgive its own. A hash, not the text: a password typed into the username field must not be kept for a day.
    let userTag: Int?
}

struct Entry {
    var failures = 0
    /// When the counter lapses; `nil`: never.
    var failuresExpire: Duration?
    var block: Block?
    /// When each automatic lockout happened, oldest first; at most as many as the escalation steps.
    var lockouts: [Duration] = []
    var historyWindow: Duration = .zero
    /// For an IP: the distinct usernames that failed from it, with when each stops counting (at most
    /// ``LockoutPolicy/sprayLimit`` + 1 of them).
    var sprayed: [String: Duration] = [:]
    /// Failures within the long window, oldest first: at most the long-window limit + 1 of them, enough to see
    /// the limit crossed (exact, not an estimate).
    var longFailures: [LongFailure] = []
    var longWindow: Duration = .zero
    /// Which insertion of this key the entry is, to tell live places in the eviction queue from stale ones.
    var generation: UInt64 = 0

    func liveFailures(at now: Duration) -> Int {
        guard failures > 0 else { return 0 }
        return failuresExpire.map { $0 > now } ?? true ? failures : 0
    }

    func activeBlock(at now: Duration) -> Block? {
        guard let block, block.isActive(at: now) else { return nil }
        return block
    }

    func lockoutCount(at now: Duration) -> Int {
        lockouts.count { now - $0 < historyWindow }
    }

    /// Failures within the long window.
    func longFailureCount(at now: Duration) -> Int {
        longFailures.count { now - $0.at < longWindow }
    }

    /// Adds a failure to the long window, forgetting those that left it and all but the newest `limit` + 1.
    mutating func countLongFailure(at now: Duration, userTag: Int?, window: Duration, limit: Int) {
        longWindow = window
        longFailures.removeAll { now - $0.at >= window }
        longFailures.append(LongFailure(at: now, userTag: userTag))
        if longFailures.count > limit + 1 { longFailures.removeFirst(longFailures.count - limit - 1) }
    }

    /// When nothing in the entry is alive any more; `nil`: never (a permanent block or a counter without TTL).
    var expires: Duration? {
        var latest = Duration.zero
        if failures > 0 {
            guard let failuresExpire else { return nil }
            latest = max(latest, failuresExpire)
        }
        if let block {
            guard let expires = block.expires else { return nil }
            latest = max(latest, expires)
        }
        if let last = lockouts.last { latest = max(latest, last + historyWindow) }
        if let newest = sprayed.values.max() { latest = max(latest, newest) }
        if let last = longFailures.last { latest = max(latest, last.at + longWindow) }
        return latest
    }

    func isExpired(at now: Duration) -> Bool { expires.map { $0 <= now } ?? false }

    /// Eviction rank: lower goes first. Single failures before evidence (a counter past one, lockout history, a
    /// long window with more than one failure), counters and history before blocks, permanent blocks last. A
    /// flood of fresh keys (one failure each) thus evicts its own kind first and cannot wash out the long window
    /// of a slow attack, which is evidence gathered over a day.
    /// How much a key has against it: its live counter, its lockouts and its failures in the long window.
    func evidence(at now: Duration) -> Int {
        max(liveFailures(at: now), longFailureCount(at: now)) + lockoutCount(at: now)
    }

    func evictionRank(at now: Duration) -> Int {
        guard let block = activeBlock(at: now) else {
            return liveFailures(at: now) <= 1 && lockouts.isEmpty && longFailureCount(at: now) <= 1 ? 0 : 1
        }
        return block.expires == nil ? 3 : 2
    }
}

extension Entry {
    /// Starts an automatic block at the next escalation step (with jitter) and remembers it in the history.
    mutating func lockOut(policy: LockoutPolicy, now: Duration, spray: Bool) {
        let step = policy.cooloff(afterPreviousLockouts: lockouts.count)
        block = Block(expires: step == .zero ? nil : now + step + policy.randomJitter(), isManual: false, isSpray: spray)
        lockouts.append(now)
        if lockouts.count > policy.lockoutCooloffs.count { lockouts.removeFirst() }
    }
}
