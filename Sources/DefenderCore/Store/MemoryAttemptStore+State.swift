/// A key in the memory store: an IP, a username, or an (address, username) pair — a shared address's IP dimension,
/// and for any other address the count of one username's failures from it (``SuccessReset/own``). The two are
/// one record, as in Redis (`P:failed:pair:ADDRESS|USERNAME`): both count that username's failures from there.
struct StoreKey: Hashable {
    enum Kind: UInt8 {
        case ip, username, pair, device
        init(_ kind: DefenderKey.Kind) {
            switch kind {
            case .ip: self = .ip
            case .username: self = .username
            case .pair: self = .pair
            case .device: self = .device
            }
        }
    }

    let kind: Kind
    let value: String

    init(_ key: DefenderKey) {
        kind = Kind(key.kind)
        value = key.value
    }

}

/// An admitted check in flight.
struct Slot {
    let id: UInt64
    let expires: Duration
}

struct State {
    var entries: [StoreKey: Entry] = [:]
    /// In-flight admission slots by key; bounded by the requests in flight (and their TTL), not by the cap.
    var slots: [StoreKey: [Slot]] = [:]
    /// When `slots` holds this many keys, expired slots of keys nobody asked about again are swept.
    var slotSweepThreshold = 1024
    /// Keys in insertion order (with their generation), for oldest-first eviction. Evicting in the dictionary's
    /// own order would always empty the same end of its table and pile the survivors into ever longer probe
    /// runs, making inserts quadratic.
    var order: [(key: StoreKey, generation: UInt64)] = []
    var head = 0
    var nextGeneration: UInt64 = 1

    /// The live slots of `key`, dropping expired ones.
    mutating func inFlight(_ key: StoreKey, now: Duration) -> Int {
        guard var list = slots[key] else { return 0 }
        list.removeAll { $0.expires <= now }
        slots[key] = list.isEmpty ? nil : list
        return list.count
    }

    mutating func reserve(_ key: StoreKey, id: UInt64, expires: Duration, now: Duration) {
        if slots.count >= slotSweepThreshold {
            for (key, list) in slots where list.allSatisfy({ $0.expires <= now }) { slots.removeValue(forKey: key) }
            slotSweepThreshold = max(1024, slots.count * 2)
        }
        slots[key, default: []].append(Slot(id: id, expires: expires))
    }

    mutating func release(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?) {
        guard let reservation else { return }
        release(StoreKey(ip), id: reservation.value)
        if let address = ip.pairAddress { release(StoreKey(address), id: reservation.value) }
        if let username { release(StoreKey(username), id: reservation.value) }
    }

    mutating func release(_ key: StoreKey, id: UInt64) {
        guard var list = slots[key], let index = list.firstIndex(where: { $0.id == id }) else { return }
        list.remove(at: index)
        slots[key] = list.isEmpty ? nil : list
    }

    /// Counts one failure on `key`, blocking it when it passes `limit` or its long-window limit. `username` is
    /// the username that failed, when `key` is its IP.
    mutating func fail(
        _ key: DefenderKey, username: DefenderKey? = nil, limit: Int, policy: LockoutPolicy, now: Duration, capacity: Int,
        newlyBlocked: inout [DefenderKey], longWindowBlocked: inout [DefenderKey]
    ) -> (failures: Int, crossed: Bool, block: Block?, longFailures: Int) {
        let storeKey = StoreKey(key)
        var entry = entries[storeKey] ?? Entry()
        entry.historyWindow = policy.historyWindow
        entry.failures = entry.liveFailures(at: now) + 1
        entry.failuresExpire = policy.attemptCooloff > .zero ? now + policy.attemptCooloff : nil
        let longLimit = policy.longWindowLimit(of: key.kind)
        if longLimit > 0 {
            let tag = policy.successReset == .own ? username.map(Self.userTag) : nil
            entry.countLongFailure(at: now, userTag: tag, window: policy.longWindow, limit: longLimit)
        }
        let counterCrossed = entry.failures > limit
        let crossed = counterCrossed || (longLimit > 0 && entry.longFailures.count > longLimit)
        if crossed {
            entry.lockouts.removeAll { now - $0 >= policy.historyWindow }
            if let active = entry.activeBlock(at: now) {
                // Still blocked (AND mode lets such requests through): refresh an automatic block at the
                // current step, as django-defender re-SETs it; a manual block stays as the operator set it.
                if !active.locksInEveryMode {
                    let step = policy.cooloff(afterPreviousLockouts: max(0, entry.lockouts.count - 1))
                    entry.block = Block(expires: step == .zero ? nil : now + step + policy.randomJitter(), isManual: false)
                }
            } else {
                entry.lockOut(policy: policy, now: now, spray: false)
                newlyBlocked.append(key)
                if !counterCrossed { longWindowBlocked.append(key) }
            }
        }
        store(entry, at: storeKey, now: now, capacity: capacity)
        return (entry.failures, crossed, entry.activeBlock(at: now), longLimit > 0 ? entry.longFailures.count : 0)
    }

    /// The tag of a username in an IP's long window (this process's seeded hash: never stored outside it).
    static func userTag(_ username: DefenderKey) -> Int { username.value.hashValue }

    /// Remembers that `username` failed from `ip` (an address); blocks it (in every mode) when more than `limit`
    /// distinct usernames failed from it within ``LockoutPolicy/sprayWindow``.
    /// - Returns: the address's block when this failure set it.
    mutating func sprayFailure(
        ip: DefenderKey, username: DefenderKey, limit: Int, policy: LockoutPolicy, now: Duration, capacity: Int,
        newlyBlocked: inout [DefenderKey]
    ) -> Block? {
        let storeKey = StoreKey(ip)
        var entry = entries[storeKey] ?? Entry()
        entry.historyWindow = policy.historyWindow
        entry.sprayed = entry.sprayed.filter { $0.value > now }
        entry.sprayed[username.value] = now + policy.sprayWindow
        var result: Block?
        if entry.sprayed.count > limit {
            // Keep the newest limit + 1: enough to see the next distinct username cross again.
            while entry.sprayed.count > limit + 1, let oldest = entry.sprayed.min(by: { $0.value < $1.value }) {
                entry.sprayed.removeValue(forKey: oldest.key)
            }
            if let active = entry.activeBlock(at: now) {
                // Already blocked by its counter (this very failure, or AND mode): make it lock in every mode.
                if !active.locksInEveryMode {
                    entry.block?.isSpray = true
                    result = entry.block
                }
            } else {
                entry.lockouts.removeAll { now - $0 >= policy.historyWindow }
                entry.lockOut(policy: policy, now: now, spray: true)
                newlyBlocked.append(ip)
                result = entry.block
            }
        }
        store(entry, at: storeKey, now: now, capacity: capacity)
        return result
    }

    /// How many distinct usernames failed from `ip` within the spray window.
    func sprayCount(_ ip: DefenderKey, now: Duration) -> Int {
        entries[StoreKey(ip)]?.sprayed.values.count { $0 > now } ?? 0
    }

    mutating func countPairFailure(ip: DefenderKey, username: DefenderKey, policy: LockoutPolicy, now: Duration, capacity: Int) {
        let key = StoreKey(.pair(address: ip, username: username))
        var entry = entries[key] ?? Entry()
        entry.failures = entry.liveFailures(at: now) + 1
        entry.failuresExpire = policy.attemptCooloff > .zero ? now + policy.attemptCooloff : nil
        store(entry, at: key, now: now, capacity: capacity)
    }

    /// Takes this username's failures from this IP off the IP's counter and out of its long window.
    mutating func forgivePairFailures(ip: DefenderKey, username: DefenderKey, now: Duration) {
        // The pair's counter goes (as Redis deletes `P:failed:pair:…`); whatever else the record holds stays.
        let ownKey = StoreKey(.pair(address: ip, username: username))
        var own = 0
        if var pair = entries[ownKey] {
            own = pair.liveFailures(at: now)
            pair.failures = 0
            pair.failuresExpire = nil
            if pair.block == nil, pair.lockouts.isEmpty, pair.longFailures.isEmpty, pair.sprayed.isEmpty {
                entries.removeValue(forKey: ownKey)
            } else {
                entries[ownKey] = pair
            }
        }
        guard var entry = entries[StoreKey(ip)] else { return }
        if own > 0 { entry.failures = max(0, entry.liveFailures(at: now) - own) }
        let tag = Self.userTag(username)
        entry.longFailures.removeAll { $0.userTag == tag }
        entries[StoreKey(ip)] = entry
    }

    /// Clears the counter and block of `key`, keeping its lockout history (and, unless `forgetSpraying`, the
    /// usernames that failed from it). Returns whether it was blocked.
    mutating func clear(_ key: DefenderKey, now: Duration, forgetSpraying: Bool = true, bySuccess: Bool = false) -> Bool {
        let storeKey = StoreKey(key)
        guard var entry = entries[storeKey] else { return false }
        let block = entry.activeBlock(at: now)
        // A success lifts only the block failures caused: never an operator's or a spray block, which a success
        // can meet only when it was admitted before the block landed (or under a dry run).
        let keepsBlock = bySuccess && block?.locksInEveryMode == true
        entry.failures = 0
        entry.failuresExpire = nil
        if !keepsBlock { entry.block = nil }
        entry.longFailures = []
        if forgetSpraying { entry.sprayed = [:] }
        if entry.lockoutCount(at: now) == 0 && entry.sprayed.isEmpty && entry.block == nil {
            entries.removeValue(forKey: storeKey)
        } else {
            entries[storeKey] = entry
        }
        return block != nil && !keepsBlock
    }

    /// Stores an entry, making room first when a new key would pass the capacity.
    mutating func store(_ entry: Entry, at key: StoreKey, now: Duration, capacity: Int) {
        var entry = entry
        if entries[key] == nil {
            if entries.count >= capacity { makeRoom(now: now, capacity: capacity) }
            entry.generation = nextGeneration
            nextGeneration += 1
            order.append((key, entry.generation))
            if order.count - head > 2 * capacity + 16 { compactOrder() }
        }
        entries[key] = entry
    }

    /// Frees about a tenth of the capacity, so that sweeps are rare: amortised O(1) per new key while fresh keys
    /// (one failure each) can make the room. Expired entries go first, then fresh keys oldest first; only then
    /// entries with evidence (more failures, history, a long window), least evidence and oldest first, and blocks
    /// that lift soonest after them. So a flood of fresh keys washes out its own kind, not a slow attack's window.
    mutating func makeRoom(now: Duration, capacity: Int) {
        let target = capacity - max(1, capacity / 10)
        for key in entries.compactMap({ $0.value.isExpired(at: now) ? $0.key : nil }) { entries.removeValue(forKey: key) }
        var kept: [(key: StoreKey, generation: UInt64)] = []
        while entries.count > target, head < order.count {
            let place = order[head]
            head += 1
            guard let entry = entries[place.key], entry.generation == place.generation else { continue }
            if entry.evictionRank(at: now) == 0 {
                entries.removeValue(forKey: place.key)
            } else {
                kept.append(place)
            }
        }
        order.append(contentsOf: kept)
        if entries.count > target {
            let ranked = entries.map { entry in
                let rank = entry.value.evictionRank(at: now)
                // Within a rank: least evidence, then oldest, first; blocks: soonest to lift first.
                let weight = rank < 2 ? entry.value.evidence(at: now) : 0
                let age = rank < 2 ? Duration.nanoseconds(Int64(clamping: entry.value.generation)) : entry.value.block?.expires ?? .zero
                return (key: entry.key, rank: rank, weight: weight, age: age)
            }
            let doomed = ranked.sorted { ($0.rank, $0.weight, $0.age) < ($1.rank, $1.weight, $1.age) }.prefix(entries.count - target)
            for entry in doomed { entries.removeValue(forKey: entry.key) }
        }
        if head > order.count / 2 {
            order.removeFirst(head)
            head = 0
        }
    }

    /// Drops stale places (keys removed or re-inserted since) from the eviction queue.
    private mutating func compactOrder() {
        order = order[head...].filter { entries[$0.key]?.generation == $0.generation }
        head = 0
    }
}
