import DefenderCore
import Synchronization

/// The blocks this instance has seen in the Redis store's answers, so that a request for a key known to be blocked
/// is refused without a round trip.
///
/// How long an entry is believed:
/// - never past the block's own end (the time left that Redis reported, counted on this instance's clock);
/// - while the invalidation subscription is up (``RedisBlockInvalidations``), for up to ``maximumAge`` (then Redis is
///   asked again): every unblock, manual block and unblocking success in any instance is published on the store's
///   channel and drops the entry everywhere; the cap bounds what a lost message or an instance of an older release
///   (whose scripts do not publish) can cost;
/// - while the subscription is down, for ``staleness`` after it was learnt, since a message may have been missed;
/// - while Redis is unreachable, until the block ends: a known attacker stays blocked through an outage.
///
/// (Re)subscribing drops every entry, as messages may have been lost meanwhile. The cache holds at most
/// ``capacity`` keys: when it is full, lapsed entries are swept, and if none lapsed, a new block is not cached (it
/// is still enforced, by Redis). Blocks only ever get longer or stronger in the store without a message (an
/// automatic block extended, or turned into a spraying block), so a cached entry never locks more than Redis would.
final class RedisBlockCache: Sendable {
    struct Entry {
        var locksInEveryMode: Bool
        /// `nil`: until unblocked.
        var ends: ContinuousClock.Instant?
        var learnt: ContinuousClock.Instant
    }

    /// The most keys held.
    let capacity: Int
    /// How long an entry is believed while no invalidation subscription is up.
    let staleness: Duration
    /// How long an entry is believed while subscribed.
    let maximumAge: Duration
    /// When a full cache was last swept, so that an attacker who fills it cannot make every lookup sweep.
    private let lastSweep = Mutex<ContinuousClock.Instant?>(nil)
    private let entries = Mutex<[DefenderKey: Entry]>([:])
    private let listening = Atomic<Bool>(false)
    private let outage = Atomic<Bool>(false)
    private let forgets = Atomic<Int>(0)

    init(capacity: Int = 10_000, staleness: Duration = .seconds(1), maximumAge: Duration = .seconds(60)) {
        self.capacity = capacity
        self.staleness = staleness
        self.maximumAge = maximumAge
    }

    /// The lockout the known blocks decide for a request, or `nil`.
    func lockout(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) -> Lockout? {
        let now = ContinuousClock.now
        // During an outage: until the block ends. Subscribed: up to `maximumAge`. Otherwise: `staleness`.
        let inOutage = outage.load(ordering: .relaxed)
        let age = inOutage ? nil : (listening.load(ordering: .relaxed) ? maximumAge : staleness)
        let (addressBlock, ipBlock, userBlock): (ActiveBlock?, ActiveBlock?, ActiveBlock?) = entries.withLock { entries in
            guard !entries.isEmpty else { return (nil, nil, nil) }
            func active(_ key: DefenderKey?) -> ActiveBlock? {
                guard let key, let entry = entries[key] else { return nil }
                if let ends = entry.ends, ends <= now { return nil }
                if let age, now - entry.learnt > age { return nil }
                return ActiveBlock(key: key, locksInEveryMode: entry.locksInEveryMode, remaining: entry.ends.map { now.duration(to: $0) })
            }
            // A shared address's every-mode block refuses its pairs, beside the pair's own (the scripts' `addr_state`).
            return (active(ip.pairAddress).flatMap { $0.locksInEveryMode ? $0 : nil }, active(ip), active(username))
        }
        guard addressBlock != nil || ipBlock != nil || userBlock != nil else { return nil }
        return policy.lockout(ip: ipBlock, username: userBlock, address: addressBlock)
    }

    /// Counts every forget: read before a script is sent, it tells whether a block was lifted while it ran.
    var generation: Int { forgets.load(ordering: .acquiring) }

    /// Remembers blocks that Redis reported in an answer to a script sent at `generation` `stamp`; nothing when a
    /// block was forgotten since (the answer may predate that unblock).
    func learn(_ blocks: [ActiveBlock], since stamp: Int) {
        guard !blocks.isEmpty, capacity > 0 else { return }
        let now = ContinuousClock.now
        entries.withLock { entries in
            guard forgets.load(ordering: .acquiring) == stamp else { return }
            for block in blocks {
                if entries[block.key] == nil, entries.count >= capacity {
                    // Full: sweep, at most once a second; until then a new block is not cached.
                    let due = lastSweep.withLock { last in
                        guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
                        last = now
                        return true
                    }
                    if due { Self.sweep(&entries, now: now, maximumAge: maximumAge, capacity: capacity) }
                    if entries.count >= capacity { continue }
                }
                entries[block.key] = Entry(locksInEveryMode: block.locksInEveryMode, ends: block.remaining.map { now + $0 }, learnt: now)
            }
        }
    }

    /// Makes room in a full cache: lapsed blocks go, then those learnt longer ago than `maximumAge` (no longer
    /// believed while Redis answers), then, if it is still full, the oldest-learnt tenth. Without the last two, ten
    /// thousand long blocks learnt once kept the cache full for good: no new block was cached, and every refusal of
    /// one cost a round trip.
    static func sweep(_ entries: inout [DefenderKey: Entry], now: ContinuousClock.Instant, maximumAge: Duration, capacity: Int) {
        entries = entries.filter { _, entry in (entry.ends.map { $0 > now } ?? true) && now - entry.learnt <= maximumAge }
        guard entries.count >= capacity else { return }
        let oldest = entries.sorted { $0.value.learnt < $1.value.learnt }.prefix(max(1, capacity / 10)).map(\.key)
        for key in oldest { entries.removeValue(forKey: key) }
    }

    /// Drops what is known of `key`.
    func forget(_ key: DefenderKey) {
        entries.withLock { entries in
            forgets.add(1, ordering: .releasing)
            entries.removeValue(forKey: key)
        }
    }

    /// Drops everything (the subscription was (re)made: messages may have been missed).
    func forgetAll() {
        entries.withLock { entries in
            forgets.add(1, ordering: .releasing)
            entries.removeAll(keepingCapacity: true)
        }
    }

    /// The number of keys held.
    var count: Int { entries.withLock { $0.count } }

    /// Whether invalidations are being received.
    func setListening(_ value: Bool) { listening.store(value, ordering: .relaxed) }

    /// Whether Redis is unreachable now (its last answer was an outage).
    func setOutage(_ value: Bool) {
        if outage.load(ordering: .relaxed) != value { outage.store(value, ordering: .relaxed) }
    }

    /// The key a published invalidation names: `ip:VALUE` or `username:VALUE`.
    static func key(fromMessage message: String) -> DefenderKey? {
        // The first colon byte: the kind never holds one, the value may (and may glue one to a combining mark).
        let utf8 = message.utf8
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), let kind = DefenderKey.Kind(rawValue: String(message[..<colon])) else { return nil }
        return DefenderKey(kind: kind, normalizedValue: String(message[utf8.index(after: colon)...]))
    }

    /// The message that invalidates `key` (the Lua scripts write the same: `kind .. ':' .. member`).
    static func message(for key: DefenderKey) -> String { "\(key.kind.rawValue):\(key.value)" }
}
