import DefenderCore
import ServiceLifecycle
import Synchronization

/// The shared store: every operation is one Lua script, one round trip, atomic across all instances.
///
/// Key layout under the prefix `P` (`DefenderConfiguration/cachePrefix`), with `K` the IP key or the
/// normalised username:
///
/// | key | type | TTL |
/// |---|---|---|
/// | `P:failed:ip:K`, `P:failed:username:K` | counter | `ATTEMPT_COOLOFF_TIME`, refreshed on each failure (none when 0) |
/// | `P:blocked:ip:K`, `P:blocked:username:K` | `a` (automatic) or `m` (manual) | the block's length (none when permanent) |
/// | `P:history:ip:K`, `P:history:username:K` | sorted set of lockout times | `ACCESS_ATTEMPT_EXPIRATION` |
/// | `P:failed:pair:IP|USER` | counter of this user's failures from this IP (`DEFENDER_SUCCESS_RESET=own`) | as the counters |
/// | `P:index:ip`, `P:index:username` | sorted set of blocked keys (scores 0), for paging by name | the longest member's block; none while it lists a permanent block |
/// | `P:expiry:ip`, `P:expiry:username` | the same members, scored by when their block lapses; each write drops lapsed ones | as the index |
/// | `P:spray:ip:K` | sorted set of usernames that failed from the IP, scored by when they stop counting | `DEFENDER_SPRAY_WINDOW` |
/// | `P:long:ip:K`, `P:long:username:K` | sorted set of failure times (ms) within the long window, the newest `DEFENDER_LONG_WINDOW_FAILURE_LIMIT` + 1 at most | `DEFENDER_LONG_WINDOW` from the newest |
/// | `P:inflight:ip:K`, `P:inflight:username:K` | sorted set of admission slots (reservation id, scored by expiry) | `DEFENDER_RESERVATION_TTL` from the newest slot |
///
/// Blocks its scripts report are remembered by this instance (a bounded local cache), so a request for a key known
/// to be blocked is refused with no round trip; lifted and manual blocks are announced on the channel `P:blocks`,
/// which ``invalidations`` (a `Service`) listens to. See `RedisBlockCache` for how long an entry is believed.
public final class RedisAttemptStore: AttemptStore, KnownBlocks, TopologyReporting {
    /// The client the store talks through: ours (``RedisClient``) or an app's own (``RedisScriptExecutor``).
    public let client: any RedisScriptExecutor
    /// The key prefix.
    public let prefix: String
    /// How far back lockouts count when reported (`DefenderConfiguration/accessAttemptExpiration`).
    public let historyWindow: Duration
    let keys: RedisKeySpace
    let blockCache: RedisBlockCache
    /// The service that keeps the block cache honest: it listens for lifted blocks announced by any instance.
    /// Run it beside the client (`RedisStoreFactory` does); without it cached blocks are believed for one second.
    public let invalidations: any Service
    private let encodedPolicies = Mutex<[(policy: LockoutPolicy, encoded: EncodedPolicy)]>([])

    /// Creates a store.
    /// - Parameters:
    ///   - client: a Redis client (shared by the whole app): a ``RedisClient``, or the app's own client behind
    ///     ``RedisScriptExecutor``.
    ///   - prefix: `DefenderConfiguration/cachePrefix`.
    ///   - historyWindow: `DefenderConfiguration/accessAttemptExpiration`.
    ///   - rememberBlocks: whether blocks seen are remembered by this instance and refused without a round trip
    ///     (see `RedisBlockCache`); off, every request asks Redis.
    public init(client: any RedisScriptExecutor, prefix: String = "defender", historyWindow: Duration = .seconds(24 * 3600), rememberBlocks: Bool = true) {
        self.client = client
        self.prefix = prefix
        // In a Cluster every key carries the prefix as its hash tag, so that all of them live in one slot and each
        // script stays one atomic step (see the README's "The Redis store" for what that costs).
        self.keys = RedisKeySpace(prefix: client.isCluster ? "{\(Self.hashTag(prefix))}" : prefix)
        self.historyWindow = historyWindow
        let blockCache = RedisBlockCache(capacity: rememberBlocks ? 10_000 : 0)
        self.blockCache = blockCache
        invalidations = RedisBlockInvalidations(client: client, channel: keys.channel, cache: blockCache)
        client.load(RedisScripts.all)
    }

    /// The prefix as a hash tag: without braces (they would end the tag early), and never empty (an empty tag is
    /// no tag, and every key would hash on its own). `DEFENDER_CACHE_PREFIX` is checked for both already.
    package static func hashTag(_ prefix: String) -> String {
        let tag = prefix.filter { $0 != "{" && $0 != "}" }
        return tag.isEmpty ? "defender" : tag
    }

    package func knownLockout(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) -> Lockout? {
        blockCache.lockout(ip: ip, username: username, policy: policy)
    }

    package func forget(_ key: DefenderKey) {
        blockCache.forget(key)
    }

    package var topology: StoreTopology {
        guard let client = client as? RedisClient else { return StoreTopology(kind: "external") }
        return switch client.configuration.topology {
        case .standalone: StoreTopology(kind: "standalone")
        case .sentinel: StoreTopology(kind: "sentinel", primary: client.primary?.hostPort)
        case .cluster: StoreTopology(kind: "cluster", primaries: client.clusterPrimaries)
        }
    }

    public func check(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> Lockout? {
        if let known = blockCache.lockout(ip: ip, username: username, policy: policy) { return known }
        let stamp = blockCache.generation
        let call = CheckCall(
            blockedIP: keys.key(.blocked, ip), blockedAddress: keys.key(.blocked, ip.pairAddress ?? ip), blockedUser: username.map { keys.key(.blocked, $0) },
            policy: encoded(policy))
        do {
            let reply = try await run(call)
            return try lockout(from: reply, ip: ip, username: username, stamp: stamp)
        } catch let error as DefenderError where error.code == .storeUnavailable {
            // Redis just became unreachable: the blocks known here are believed until they end from now on.
            if let known = blockCache.lockout(ip: ip, username: username, policy: policy) { return known }
            throw error
        }
    }

    public func admit(ip: DefenderKey, username: DefenderKey?, reservation: Reservation, policy: LockoutPolicy) async throws -> Admission {
        if let known = blockCache.lockout(ip: ip, username: username, policy: policy) { return .locked(known) }
        let stamp = blockCache.generation
        let address = ip.pairAddress ?? ip
        let encoded = encoded(policy)
        let call = AdmitCall(
            ip: (keys.key(.blocked, ip), keys.key(.failed, ip), keys.key(.inflight, ip), keys.key(.long, ip)),
            address: (keys.key(.blocked, address), keys.key(.inflight, address), keys.key(.spray, address)), sprayLimit: encoded.sprayLimit(for: ip),
            user: username.map { (keys.key(.blocked, $0), keys.key(.failed, $0), keys.key(.inflight, $0), keys.key(.long, $0)) },
            reservation: reservation.id, policy: encoded)
        let reply: RedisReply
        do {
            // Run to its end even when the caller is cancelled: once the script is written Redis reserves the slot
            // whatever the caller does, and only an answer tells the engine to give it back (it leaked until its
            // TTL, holding the username's other logins at `busy`).
            reply = try await Defender.uncancelled { try await self.run(call) }
        } catch let error as DefenderError where error.code == .storeUnavailable {
            // Redis just became unreachable: the blocks known here are believed until they end from now on.
            if let known = blockCache.lockout(ip: ip, username: username, policy: policy) { return .locked(known) }
            throw error
        }
        switch try integers(reply, count: 4)[0] {
        case 0: return .admitted
        case 2: return .busy
        default:
            guard let lockout = try lockout(from: reply, ip: ip, username: username, stamp: stamp) else { throw malformed(reply) }
            return .locked(lockout)
        }
    }

    public func release(ip: DefenderKey, username: DefenderKey?, reservation: Reservation) async throws {
        _ = try await run(ReleaseCall(
            inflightIP: keys.key(.inflight, ip), inflightAddress: keys.key(.inflight, ip.pairAddress ?? ip),
            inflightUser: username.map { keys.key(.inflight, $0) }, reservation: reservation.id))
    }

    /// The number of admission slots in flight on `key`, expired ones excluded (for tests and operators).
    public func inFlight(_ key: DefenderKey) async throws -> Int {
        Int(try await run(InFlightCall(inflight: keys.key(.inflight, key))).int ?? 0)
    }

    public func recordFailure(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> FailureResult {
        let stamp = blockCache.generation
        let address = ip.pairAddress ?? ip
        let encoded = encoded(policy)
        let call = RecordFailureCall(
            ip: outcomeKeys(ip), address: outcomeKeys(address), spray: keys.key(.spray, address), sprayLimit: encoded.sprayLimit(for: ip),
            isPair: ip.kind == .pair, user: username.map(outcomeKeys), pair: username.map { keys.pair(ip, $0) },
            reservation: reservation?.id, jitterMS: policy.randomJitter().milliseconds, nonce: Reservation().id, policy: encoded)
        let reply = try await run(call)
        let values = try integers(reply, count: 19)
        var newly: [DefenderKey] = []
        var byLongWindow: [DefenderKey] = []
        if values[12] == 1 { newly.append(ip) }
        if values[18] == 1 { newly.append(address) }
        if values[13] == 1, let username { newly.append(username) }
        if values[14] == 1 { byLongWindow.append(ip) }
        if values[15] == 1, let username { byLongWindow.append(username) }
        return FailureResult(
            lockout: try lockout(from: reply, ip: ip, username: username, stamp: stamp), newlyBlocked: newly,
            ipFailures: Int(values[10]), usernameFailures: Int(values[11]), longWindowBlocked: byLongWindow,
            ipLongWindowFailures: Int(values[16]), usernameLongWindowFailures: Int(values[17]))
    }

    public func recordSuccess(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> [DefenderKey] {
        let call = RecordSuccessCall(
            ip: outcomeKeys(ip), inflightAddress: keys.key(.inflight, ip.pairAddress ?? ip), isPair: ip.kind == .pair,
            user: username.map(outcomeKeys), pair: username.map { keys.pair(ip, $0) },
            reservation: reservation?.id, policy: encoded(policy),
            channel: keys.channel, ipNote: RedisBlockCache.message(for: ip), userNote: username.map(RedisBlockCache.message(for:)))
        let values = try integers(try await run(call), count: 2)
        var unblocked: [DefenderKey] = []
        if values[0] == 1, let username { unblocked.append(username) }
        if values[1] == 1 { unblocked.append(ip) }
        for key in unblocked { blockCache.forget(key) }
        return unblocked
    }

    @discardableResult
    public func block(_ key: DefenderKey, for duration: Duration?) async throws -> Bool {
        let call = BlockCall(
            blocked: keys.key(.blocked, key), index: keys.index(key.kind), expiry: keys.expiry(key.kind), member: key.value,
            lastsMS: duration.map { max(1, $0.milliseconds) }, channel: keys.channel, note: RedisBlockCache.message(for: key))
        blockCache.forget(key)
        defer { blockCache.forget(key) }
        return try await run(call).int == 1
    }

    @discardableResult
    public func unblock(_ key: DefenderKey) async throws -> Bool {
        let call = UnblockCall(lifted: LiftedKey(key, in: keys))
        // Forgotten here at once, whether or not Redis can be reached: an operator's unblock is never undone by
        // this instance's cache.
        blockCache.forget(key)
        defer { blockCache.forget(key) }
        return try await run(call).int == 1
    }

    public func blocks(of kind: DefenderKey.Kind, after cursor: String?, limit: Int) async throws -> BlockPage {
        let call = BlocksCall(
            index: keys.index(kind), expiry: keys.expiry(kind), blockedPrefix: keys.keyPrefix(.blocked, kind),
            historyPrefix: keys.keyPrefix(.history, kind), cursor: cursor, limit: Int64(max(1, limit)), historyMS: historyWindow.milliseconds)
        let reply = try await run(call)
        guard let values = reply.elements, let next = values.first?.string else { throw malformed(reply) }
        var blocks: [BlockInfo] = []
        guard (values.count - 1) % 4 == 0 else { throw malformed(reply) }
        var index = 1
        while index + 3 < values.count {
            guard let member = values[index].string, let ttl = values[index + 1].int,
                let manual = values[index + 2].int, let lockouts = values[index + 3].int
            else { throw malformed(reply) }
            blocks.append(BlockInfo(
                key: DefenderKey(kind: kind, normalizedValue: member), remaining: ttl < 0 ? nil : .milliseconds(ttl),
                isManual: manual == 1, lockoutCount: Int(lockouts)))
            index += 4
        }
        return BlockPage(blocks: limit > 0 ? blocks : [], nextCursor: next.isEmpty ? nil : next)
    }

    public func state(of key: DefenderKey) async throws -> KeyState {
        let call = StateCall(
            failed: keys.key(.failed, key), blocked: keys.key(.blocked, key), history: keys.key(.history, key),
            historyMS: historyWindow.milliseconds)
        let reply = try await run(call)
        guard let values = reply.elements, values.count == 4, let failures = values[0].int, let mark = values[1].string,
            let ttl = values[2].int, let lockouts = values[3].int
        else { throw malformed(reply) }
        let block = mark.isEmpty ? nil : BlockInfo(
            key: key, remaining: ttl < 0 ? nil : .milliseconds(ttl), isManual: BlockMark(rawValue: mark) == .manual,
            lockoutCount: Int(lockouts))
        return KeyState(failures: Int(failures), block: block, lockoutCount: Int(lockouts))
    }

    /// Every key name the store may touch for a request from `ip` for `username` (for tests of the key layout).
    @_spi(Internals) public func keyNames(ip: DefenderKey, username: DefenderKey) -> [String] {
        let records: [RedisKeySpace.Record] = [.failed, .blocked, .history, .inflight, .spray, .long]
        return records.flatMap { [keys.key($0, ip), keys.key($0, username)] }
            + [keys.index(.ip), keys.index(.username), keys.expiry(.ip), keys.expiry(.username), keys.pair(ip, username)]
    }

    // MARK: Helpers

    func run(_ call: some ScriptCall) async throws -> RedisReply {
        let (keys, arguments) = call.encoded
        do {
            let reply = try await client.evaluate(type(of: call).script, keys: keys, arguments: arguments)
            blockCache.setOutage(false)
            return reply
        } catch let error as RedisError {
            // Every Redis error becomes the store's: an outage (unreachable, READONLY, LOADING, OOM, …) or a fault
            // (WRONGTYPE, a script error). Both go through the failure policy; neither reaches a login as a 500.
            if error.isUnavailable { blockCache.setOutage(true) }
            throw DefenderError(error.isUnavailable ? .storeUnavailable : .storeFault, error.description, underlying: error)
        } catch let error as DefenderError {
            throw error
        } catch let error as CancellationError {
            // The caller gave up (a client disconnected, a task group ended): the server said nothing, so this is
            // no outage. Counted as one, it would send the next requests to the fallback store for a retry interval.
            throw error
        } catch {
            // A foreign client's own way of saying "cancelled" is cancellation too.
            if Task.isCancelled { throw CancellationError() }
            // An app's own client threw an error of its own kind: we cannot tell what the server meant, so it is an
            // outage, and the failure policy decides. Only its type is named: its text may hold a URL with a password.
            blockCache.setOutage(true)
            throw DefenderError(.storeUnavailable, "the Redis client failed with \(type(of: error))", underlying: error)
        }
    }

    private func outcomeKeys(_ key: DefenderKey) -> OutcomeKeys {
        OutcomeKeys(
            failed: keys.key(.failed, key), blocked: keys.key(.blocked, key), history: keys.key(.history, key),
            index: keys.index(key.kind), expiry: keys.expiry(key.kind), inflight: keys.key(.inflight, key),
            long: keys.key(.long, key), member: key.value)
    }

    /// The policy's constant arguments, formatted once: the engine passes one of two policies to every call (its
    /// own, and a trusted client's), so the last four are kept.
    private func encoded(_ policy: LockoutPolicy) -> EncodedPolicy {
        if let cached = encodedPolicies.withLock({ $0.first { $0.policy == policy } }) { return cached.encoded }
        let encoded = EncodedPolicy(policy)
        encodedPolicies.withLock {
            if $0.count == 4 { $0.removeFirst() }
            $0.append((policy, encoded))
        }
        return encoded
    }
}
