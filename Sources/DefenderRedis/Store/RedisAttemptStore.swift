import DefenderCore
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
/// | `P:inflight:ip:K`, `P:inflight:username:K` | sorted set of admission slots (reservation id, scored by expiry) | `DEFENDER_RESERVATION_TTL` from the newest slot |
public final class RedisAttemptStore: AttemptStore {
    /// The client the store talks through.
    public let client: RedisClient
    /// The key prefix.
    public let prefix: String
    /// How far back lockouts count when reported (`DefenderConfiguration/accessAttemptExpiration`).
    public let historyWindow: Duration
    private let keys: RedisKeySpace
    private let encodedPolicy = Mutex<(policy: LockoutPolicy, encoded: EncodedPolicy)?>(nil)

    /// Creates a store.
    /// - Parameters:
    ///   - client: a Redis client (shared by the whole app).
    ///   - prefix: `DefenderConfiguration/cachePrefix`.
    ///   - historyWindow: `DefenderConfiguration/accessAttemptExpiration`.
    public init(client: RedisClient, prefix: String = "defender", historyWindow: Duration = .seconds(24 * 3600)) {
        self.client = client
        self.prefix = prefix
        self.keys = RedisKeySpace(prefix: prefix)
        self.historyWindow = historyWindow
        client.preload(RedisScripts.all)
    }

    public func check(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> Lockout? {
        let call = CheckCall(blockedIP: keys.key(.blocked, ip), blockedUser: username.map { keys.key(.blocked, $0) }, policy: encoded(policy))
        return try lockout(from: try await run(call), ip: ip, username: username)
    }

    public func admit(ip: DefenderKey, username: DefenderKey?, reservation: Reservation, policy: LockoutPolicy) async throws -> Admission {
        let call = AdmitCall(
            ip: (keys.key(.blocked, ip), keys.key(.failed, ip), keys.key(.inflight, ip), keys.key(.spray, ip)),
            user: username.map { (keys.key(.blocked, $0), keys.key(.failed, $0), keys.key(.inflight, $0)) },
            reservation: reservation.id, policy: encoded(policy))
        let reply = try await run(call)
        switch try integers(reply, count: 4)[0] {
        case 0: return .admitted
        case 2: return .busy
        default:
            guard let lockout = try lockout(from: reply, ip: ip, username: username) else { throw malformed(reply) }
            return .locked(lockout)
        }
    }

    public func release(ip: DefenderKey, username: DefenderKey?, reservation: Reservation) async throws {
        _ = try await run(ReleaseCall(
            inflightIP: keys.key(.inflight, ip), inflightUser: username.map { keys.key(.inflight, $0) }, reservation: reservation.id))
    }

    /// The number of admission slots in flight on `key`, expired ones excluded (for tests and operators).
    public func inFlight(_ key: DefenderKey) async throws -> Int {
        Int(try await run(InFlightCall(inflight: keys.key(.inflight, key))).int ?? 0)
    }

    public func recordFailure(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> FailureResult {
        let call = RecordFailureCall(
            ip: outcomeKeys(ip), spray: keys.key(.spray, ip), user: username.map(outcomeKeys), pair: username.map { keys.pair(ip, $0) },
            reservation: reservation?.id, jitterMS: policy.randomJitter().milliseconds, policy: encoded(policy))
        let reply = try await run(call)
        let values = try integers(reply, count: 8)
        var newly: [DefenderKey] = []
        if values[6] == 1 { newly.append(ip) }
        if values[7] == 1, let username { newly.append(username) }
        return FailureResult(
            lockout: try lockout(from: reply, ip: ip, username: username), newlyBlocked: newly,
            ipFailures: Int(values[4]), usernameFailures: Int(values[5]))
    }

    public func recordSuccess(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> [DefenderKey] {
        let call = RecordSuccessCall(
            ip: outcomeKeys(ip), user: username.map(outcomeKeys), pair: username.map { keys.pair(ip, $0) },
            reservation: reservation?.id, policy: encoded(policy))
        let values = try integers(try await run(call), count: 2)
        var unblocked: [DefenderKey] = []
        if values[0] == 1, let username { unblocked.append(username) }
        if values[1] == 1 { unblocked.append(ip) }
        return unblocked
    }

    @discardableResult
    public func block(_ key: DefenderKey, for duration: Duration?) async throws -> Bool {
        let call = BlockCall(
            blocked: keys.key(.blocked, key), index: keys.index(key.kind), expiry: keys.expiry(key.kind), member: key.value,
            lastsMS: duration.map { max(1, $0.milliseconds) })
        return try await run(call).int == 1
    }

    @discardableResult
    public func unblock(_ key: DefenderKey) async throws -> Bool {
        let call = UnblockCall(
            failed: keys.key(.failed, key), blocked: keys.key(.blocked, key), spray: keys.key(.spray, key),
            index: keys.index(key.kind), expiry: keys.expiry(key.kind), member: key.value)
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

    // MARK: Helpers

    private func run(_ call: some ScriptCall) async throws -> RESPValue {
        let (keys, arguments) = call.encoded
        do {
            return try await client.run(type(of: call).script, keys: keys, arguments: arguments)
        } catch let error as RedisError {
            // Every Redis error becomes the store's: an outage (unreachable, READONLY, LOADING, OOM, …) or a fault
            // (WRONGTYPE, a script error). Both go through the failure policy; neither reaches a login as a 500.
            throw DefenderError(error.isUnavailable ? .storeUnavailable : .storeFault, error.description, underlying: error)
        }
    }

    private func outcomeKeys(_ key: DefenderKey) -> OutcomeKeys {
        OutcomeKeys(
            failed: keys.key(.failed, key), blocked: keys.key(.blocked, key), history: keys.key(.history, key),
            index: keys.index(key.kind), expiry: keys.expiry(key.kind), inflight: keys.key(.inflight, key), member: key.value)
    }

    /// The policy's constant arguments, formatted once: the engine passes the same policy to every call.
    private func encoded(_ policy: LockoutPolicy) -> EncodedPolicy {
        if let cached = encodedPolicy.withLock({ $0 }), cached.policy == policy { return cached.encoded }
        let encoded = EncodedPolicy(policy)
        encodedPolicy.withLock { $0 = (policy, encoded) }
        return encoded
    }

    private func lockout(from reply: RESPValue, ip: DefenderKey, username: DefenderKey?) throws -> Lockout? {
        let values = try integers(reply, count: 4)
        guard values[0] == 1 else { return nil }
        var keys: [DefenderKey] = []
        if values[2] == 1 { keys.append(ip) }
        if values[3] == 1, let username { keys.append(username) }
        return Lockout(keys: keys, retryAfter: values[1] < 0 ? nil : .milliseconds(values[1]))
    }

    private func integers(_ reply: RESPValue, count: Int) throws -> [Int64] {
        guard let values = reply.elements?.compactMap(\.int), values.count >= count else { throw malformed(reply) }
        return values
    }

    private func malformed(_ reply: RESPValue) -> DefenderError {
        DefenderError(.storeFault, "unexpected reply from a Defender script: \(String(describing: reply).prefix(120))")
    }
}
