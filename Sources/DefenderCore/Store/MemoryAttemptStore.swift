import Synchronization

/// The in-memory store: one process, bounded memory.
///
/// Expiry is lazy (checked on access, swept when full), so there is no timer per key. The store never holds
/// more than ``capacity`` keys: when a new key would pass it, expired entries go first, then counters and
/// lockout history, and active blocks only last (permanent ones after all others).
public final class MemoryAttemptStore: AttemptStore {
    /// The most keys held at once.
    public let capacity: Int
    let clock: any DefenderClock
    let state: Mutex<State>
    /// Unlock links and e-mail counts, apart from the attempt records: they are few and are never evicted for them.
    let unlockLedger = Mutex(UnlockLedger())

    /// Creates an empty store.
    /// - Parameters:
    ///   - capacity: the most keys held at once (`DEFENDER_MEMORY_MAX_ENTRIES`).
    ///   - clock: the time source; inject a manual clock in tests.
    public init(capacity: Int = 100_000, clock: any DefenderClock = SystemDefenderClock()) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        self.clock = clock
        self.state = Mutex(State())
    }

    /// Forgets every counter, block and lockout history (slots in flight and unlock links stay): for a store that
    /// stood in for a shared one during an outage, whose records must not come back in the next outage after the
    /// shared store has moved on (an operator's unblock, a success, an unlock link).
    package func forgetRecords() {
        state.withLock { state in
            state.entries = [:]
            state.order = []
            state.head = 0
        }
    }

    /// The number of keys held now (expired ones included until they are swept).
    public var count: Int { state.withLock { $0.entries.count } }

    public func check(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> Lockout? {
        let now = clock.now()
        return state.withLock { state in
            let userBlock = username.flatMap { state.entries[StoreKey($0)]?.activeBlock(at: now) }
            let ipBlock = state.entries[StoreKey(ip)]?.activeBlock(at: now)
            return Self.lockout(
                ip: (ip, ipBlock), username: (username, userBlock), address: Self.addressBlock(state, ip, now: now), policy: policy, now: now)
        }
    }

    public func admit(ip: DefenderKey, username: DefenderKey?, reservation: Reservation, policy: LockoutPolicy) async throws -> Admission {
        let now = clock.now()
        return state.withLock { state in
            let ipEntry = state.entries[StoreKey(ip)]
            let userEntry = username.flatMap { state.entries[StoreKey($0)] }
            let ipBlock = ipEntry?.activeBlock(at: now)
            let userBlock = userEntry?.activeBlock(at: now)
            let addressBlock = Self.addressBlock(state, ip, now: now)
            if let lockout = Self.lockout(ip: (ip, ipBlock), username: (username, userBlock), address: addressBlock, policy: policy, now: now) {
                return .locked(lockout)
            }
            let ipCounts = !policy.disableIPLockout
            let userCounts = username != nil && !policy.disableUsernameLockout
            // Spraying is counted on the address: a shared address's pair stands for it only in the IP dimension.
            let sprayKey = ip.pairAddress ?? ip
            let sprayLimit = policy.sprayLimit(for: ip)
            let sprayCounts = sprayLimit > 0 && username != nil
            func mayBeBlocked(_ key: DefenderKey, _ entry: Entry?, _ block: Block?) -> Bool {
                if block != nil { return true }
                let inFlight = state.inFlight(StoreKey(key), now: now)
                if policy.mayBeBlocked(failures: entry?.liveFailures(at: now) ?? 0, inFlight: inFlight, limit: policy.limit(of: key.kind)) {
                    return true
                }
                let longLimit = policy.longWindowLimit(of: key.kind)
                return longLimit > 0 && policy.mayBeBlocked(failures: entry?.longFailureCount(at: now) ?? 0, inFlight: inFlight, limit: longLimit)
            }
            let ipMay = ipCounts && mayBeBlocked(ip, ipEntry, ipBlock)
            let userMay = userCounts && username.map { mayBeBlocked($0, userEntry, userBlock) } ?? false
            if policy.isLocked(ipBlocked: ipMay, usernameBlocked: userMay) { return .busy }
            // Spraying: every check in flight from this address could add one more distinct username.
            if sprayCounts,
                policy.mayBeBlocked(failures: state.sprayCount(sprayKey, now: now), inFlight: state.inFlight(StoreKey(sprayKey), now: now), limit: sprayLimit)
            {
                return .busy
            }
            let expires = now + policy.reservationTTL
            if ipCounts || (sprayCounts && sprayKey == ip) { state.reserve(StoreKey(ip), id: reservation.value, expires: expires, now: now) }
            if sprayCounts && sprayKey != ip { state.reserve(StoreKey(sprayKey), id: reservation.value, expires: expires, now: now) }
            if userCounts, let username { state.reserve(StoreKey(username), id: reservation.value, expires: expires, now: now) }
            return .admitted
        }
    }

    public func release(ip: DefenderKey, username: DefenderKey?, reservation: Reservation) async throws {
        state.withLock { $0.release(ip: ip, username: username, reservation: reservation) }
    }

    /// The number of admission slots in flight on `key`.
    public func inFlight(_ key: DefenderKey) -> Int {
        let now = clock.now()
        return state.withLock { $0.inFlight(StoreKey(key), now: now) }
    }

    public func recordFailure(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> FailureResult {
        let now = clock.now()
        return state.withLock { state in
            state.release(ip: ip, username: username, reservation: reservation)
            var newlyBlocked: [DefenderKey] = []
            var longWindowBlocked: [DefenderKey] = []
            var ipCrossed = false
            var userCrossed = false
            var ipFailures = 0
            var userFailures = 0
            var ipBlock: Block?
            var userBlock: Block?
            var ipLong = 0
            var userLong = 0
            if !policy.disableIPLockout {
                // A pair's window needs no username tags: all its failures are the one username's.
                (ipFailures, ipCrossed, ipBlock, ipLong) = state.fail(
                    ip, username: ip.kind == .pair ? nil : username, limit: policy.ipLimit, policy: policy, now: now, capacity: capacity,
                    newlyBlocked: &newlyBlocked, longWindowBlocked: &longWindowBlocked)
            }
            if let username, !policy.disableUsernameLockout {
                (userFailures, userCrossed, userBlock, userLong) = state.fail(
                    username, limit: policy.usernameLimit, policy: policy, now: now, capacity: capacity,
                    newlyBlocked: &newlyBlocked, longWindowBlocked: &longWindowBlocked)
                if policy.successReset == .own, !policy.disableIPLockout, ip.kind != .pair {
                    state.countPairFailure(ip: ip, username: username, policy: policy, now: now, capacity: capacity)
                }
            }
            let sprayKey = ip.pairAddress ?? ip
            if let username, policy.sprayLimit(for: ip) > 0,
                let sprayBlock = state.sprayFailure(
                    ip: sprayKey, username: username, limit: policy.sprayLimit(for: ip), policy: policy, now: now, capacity: capacity,
                    newlyBlocked: &newlyBlocked)
            {
                // Beside the spraying block, whatever else this failure blocked (its Retry-After may be later).
                let lockout = sprayKey == ip
                    ? Self.lockout(ip: (ip, sprayBlock), username: (username, userCrossed ? userBlock : nil), policy: policy, now: now)
                    : Self.lockout(
                        ip: (ip, ipCrossed ? ipBlock : nil), username: (username, userCrossed ? userBlock : nil), address: (sprayKey, sprayBlock),
                        policy: policy, now: now)
                return FailureResult(
                    lockout: lockout, newlyBlocked: newlyBlocked, ipFailures: ipFailures, usernameFailures: userFailures,
                    longWindowBlocked: longWindowBlocked, ipLongWindowFailures: ipLong, usernameLongWindowFailures: userLong)
            }
            var lockout: Lockout?
            if policy.isLocked(ipBlocked: ipCrossed, usernameBlocked: userCrossed) {
                lockout = Self.lockout(
                    ip: (ip, ipCrossed ? ipBlock : nil), username: (username, userCrossed ? userBlock : nil),
                    policy: policy, now: now)
            }
            return FailureResult(
                    lockout: lockout, newlyBlocked: newlyBlocked, ipFailures: ipFailures, usernameFailures: userFailures,
                    longWindowBlocked: longWindowBlocked, ipLongWindowFailures: ipLong, usernameLongWindowFailures: userLong)
        }
    }

    public func recordSuccess(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> [DefenderKey] {
        let now = clock.now()
        return state.withLock { state in
            state.release(ip: ip, username: username, reservation: reservation)
            var unblocked: [DefenderKey] = []
            if let username, state.clear(username, now: now, bySuccess: true) { unblocked.append(username) }
            switch policy.successReset {
            case .all where !policy.lockOutByIPAndUsername:
                // A success never forgives spraying, whatever the reset mode.
                if state.clear(ip, now: now, forgetSpraying: false, bySuccess: true) { unblocked.append(ip) }
            case .own where ip.kind == .pair:
                // A shared address's pair holds only this username's failures: its success forgives them all.
                if state.clear(ip, now: now, forgetSpraying: false, bySuccess: true) { unblocked.append(ip) }
            case .own:
                if let username { state.forgivePairFailures(ip: ip, username: username, now: now) }
            default:
                break
            }
            return unblocked
        }
    }


    @discardableResult
    public func block(_ key: DefenderKey, for duration: Duration?) async throws -> Bool {
        let now = clock.now()
        return state.withLock { state in
            var entry = state.entries[StoreKey(key)] ?? Entry()
            let wasBlocked = entry.activeBlock(at: now) != nil
            entry.block = Block(expires: duration.map { now + $0 }, isManual: true)
            state.store(entry, at: StoreKey(key), now: now, capacity: capacity)
            return !wasBlocked
        }
    }


    @discardableResult
    public func unblock(_ key: DefenderKey) async throws -> Bool {
        let now = clock.now()
        return state.withLock { $0.clear(key, now: now) }
    }

    public func blocks(of kind: DefenderKey.Kind, after cursor: String?, limit: Int) async throws -> BlockPage {
        let now = clock.now()
        return state.withLock { state in
            var found: [BlockInfo] = []
            for (key, entry) in state.entries where key.kind == StoreKey.Kind(kind) {
                guard let block = entry.activeBlock(at: now), cursor.map({ key.value > $0 }) ?? true else { continue }
                found.append(BlockInfo(
                    key: DefenderKey(kind: kind, normalizedValue: key.value), remaining: block.expires.map { $0 - now },
                    isManual: block.isManual, lockoutCount: entry.lockoutCount(at: now)))
            }
            found.sort { $0.key.value < $1.key.value }
            let page = Array(found.prefix(max(0, limit)))
            return BlockPage(blocks: page, nextCursor: found.count > page.count ? page.last?.key.value : nil)
        }
    }

    public func state(of key: DefenderKey) async throws -> KeyState {
        let now = clock.now()
        return state.withLock { state in
            guard let entry = state.entries[StoreKey(key)] else { return KeyState(failures: 0, block: nil, lockoutCount: 0) }
            let count = entry.lockoutCount(at: now)
            let block = entry.activeBlock(at: now).map {
                BlockInfo(key: key, remaining: $0.expires.map { $0 - now }, isManual: $0.isManual, lockoutCount: count)
            }
            return KeyState(failures: entry.liveFailures(at: now), block: block, lockoutCount: count)
        }
    }

    /// A shared address's own block, when `ip` is its pair and the block locks in every mode (an operator's,
    /// spraying): the only kind of the address's blocks that refuses its pairs.
    private static func addressBlock(_ state: State, _ ip: DefenderKey, now: Duration) -> (DefenderKey, Block?)? {
        guard let address = ip.pairAddress, let block = state.entries[StoreKey(address)]?.activeBlock(at: now), block.locksInEveryMode else {
            return nil
        }
        return (address, block)
    }

    /// The lockout for the blocks that apply (the one rule, `LockoutPolicy.lockout(ip:username:)`).
    private static func lockout(
        ip: (DefenderKey, Block?), username: (DefenderKey?, Block?), address: (DefenderKey, Block?)? = nil, policy: LockoutPolicy, now: Duration
    ) -> Lockout? {
        func active(_ key: DefenderKey?, _ block: Block?) -> ActiveBlock? {
            guard let key, let block else { return nil }
            return ActiveBlock(key: key, locksInEveryMode: block.locksInEveryMode, remaining: block.expires.map { $0 - now })
        }
        return policy.lockout(ip: active(ip.0, ip.1), username: active(username.0, username.1), address: address.flatMap { active($0.0, $0.1) })
    }
}
