import DefenderCore

/// The shared store: every operation is one Lua script, one round trip, atomic across all instances.
///
/// Key layout under the prefix `P` (``DefenderConfiguration/cachePrefix``), with `K` the IP key or the
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
    /// How far back lockouts count when reported (``DefenderConfiguration/accessAttemptExpiration``).
    public let historyWindow: Duration

    /// Creates a store.
    /// - Parameters:
    ///   - client: a Redis client (shared by the whole app).
    ///   - prefix: ``DefenderConfiguration/cachePrefix``.
    ///   - historyWindow: ``DefenderConfiguration/accessAttemptExpiration``.
    public init(client: RedisClient, prefix: String = "defender", historyWindow: Duration = .seconds(24 * 3600)) {
        self.client = client
        self.prefix = prefix
        self.historyWindow = historyWindow
        client.preload(RedisScripts.all)
    }

    func key(_ kind: String, _ key: DefenderKey) -> String { "\(prefix):\(kind):\(key.kind.rawValue):\(key.value)" }
    func index(_ kind: DefenderKey.Kind) -> String { "\(prefix):index:\(kind.rawValue)" }
    func expiry(_ kind: DefenderKey.Kind) -> String { "\(prefix):expiry:\(kind.rawValue)" }
    func pair(_ ip: DefenderKey, _ username: DefenderKey) -> String { "\(prefix):failed:pair:\(ip.value)|\(username.value)" }

    public func check(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> Lockout? {
        let reply = try await run(
            RedisScripts.check, keys: [key("blocked", ip), username.map { key("blocked", $0) } ?? ""],
            arguments: [flag(policy.disableIPLockout), flag(policy.disableUsernameLockout), flag(policy.lockOutByIPAndUsername)])
        return try lockout(from: reply, ip: ip, username: username)
    }

    public func admit(ip: DefenderKey, username: DefenderKey?, reservation: Reservation, policy: LockoutPolicy) async throws -> Admission {
        let keys = [
            key("blocked", ip), username.map { key("blocked", $0) } ?? "", key("failed", ip),
            username.map { key("failed", $0) } ?? "", key("inflight", ip), username.map { key("inflight", $0) } ?? "",
            key("spray", ip),
        ]
        let arguments = [
            flag(policy.disableIPLockout), flag(policy.disableUsernameLockout), flag(policy.lockOutByIPAndUsername),
            String(policy.ipLimit), String(policy.usernameLimit), reservation.id, String(max(1, milliseconds(policy.reservationTTL))),
            String(policy.sprayLimit),
        ]
        let reply = try await run(RedisScripts.admit, keys: keys, arguments: arguments)
        switch try integers(reply, count: 4)[0] {
        case 0: return .admitted
        case 2: return .busy
        default:
            guard let lockout = try lockout(from: reply, ip: ip, username: username) else { throw malformed(reply) }
            return .locked(lockout)
        }
    }

    public func release(ip: DefenderKey, username: DefenderKey?, reservation: Reservation) async throws {
        _ = try await run(
            RedisScripts.release, keys: [key("inflight", ip), username.map { key("inflight", $0) } ?? ""], arguments: [reservation.id])
    }

    /// The number of admission slots in flight on `key`, expired ones excluded (for tests and operators).
    public func inFlight(_ key: DefenderKey) async throws -> Int {
        let reply = try await run(
            RedisScripts.inFlight, keys: [self.key("inflight", key)], arguments: [])
        return Int(reply.int ?? 0)
    }

    public func recordFailure(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> FailureResult {
        let user = username ?? DefenderKey(kind: .username, normalizedValue: "")
        let keys = [
            key("failed", ip), key("blocked", ip), key("history", ip), key("failed", user), key("blocked", user),
            key("history", user), pair(ip, user), index(.ip), index(.username), key("inflight", ip), key("inflight", user),
            key("spray", ip), expiry(.ip), expiry(.username),
        ]
        let arguments = [
            String(policy.ipLimit), String(policy.usernameLimit), String(milliseconds(policy.attemptCooloff)),
            String(milliseconds(policy.historyWindow)), flag(policy.disableIPLockout), flag(policy.disableUsernameLockout),
            flag(username != nil), flag(policy.successReset == .own), flag(policy.lockOutByIPAndUsername), ip.value, user.value,
            reservation?.id ?? "", String(milliseconds(policy.randomJitter())), String(policy.sprayLimit),
            String(max(1, milliseconds(policy.sprayWindow))),
        ] + policy.lockoutCooloffs.map { String(milliseconds($0)) }
        let reply = try await run(RedisScripts.recordFailure, keys: keys, arguments: arguments)
        let values = try integers(reply, count: 8)
        var newly: [DefenderKey] = []
        if values[6] == 1 { newly.append(ip) }
        if values[7] == 1, let username { newly.append(username) }
        return FailureResult(
            lockout: try lockout(from: reply, ip: ip, username: username), newlyBlocked: newly,
            ipFailures: Int(values[4]), usernameFailures: Int(values[5]))
    }

    public func recordSuccess(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> [DefenderKey] {
        let user = username ?? DefenderKey(kind: .username, normalizedValue: "")
        let reply = try await run(
            RedisScripts.recordSuccess,
            keys: [
                key("failed", user), key("blocked", user), key("failed", ip), key("blocked", ip), pair(ip, user), index(.ip),
                index(.username), key("inflight", ip), key("inflight", user), expiry(.ip), expiry(.username),
            ],
            arguments: [
                policy.successReset.description, flag(policy.lockOutByIPAndUsername), flag(username != nil), ip.value, user.value,
                reservation?.id ?? "",
            ])
        let values = try integers(reply, count: 2)
        var unblocked: [DefenderKey] = []
        if values[0] == 1, let username { unblocked.append(username) }
        if values[1] == 1 { unblocked.append(ip) }
        return unblocked
    }

    @discardableResult
    public func block(_ key: DefenderKey, for duration: Duration?) async throws -> Bool {
        let ms = duration.map { max(1, milliseconds($0)) } ?? 0
        let reply = try await run(RedisScripts.block, keys: [self.key("blocked", key), index(key.kind), expiry(key.kind)], arguments: [String(ms), key.value])
        return reply.int == 1
    }

    @discardableResult
    public func unblock(_ key: DefenderKey) async throws -> Bool {
        let reply = try await run(
            RedisScripts.unblock, keys: [self.key("failed", key), self.key("blocked", key), index(key.kind), self.key("spray", key), expiry(key.kind)],
            arguments: [key.value])
        return reply.int == 1
    }

    public func blocks(of kind: DefenderKey.Kind, after cursor: String?, limit: Int) async throws -> BlockPage {
        let reply = try await run(
            RedisScripts.blocks, keys: [index(kind), expiry(kind)],
            arguments: ["\(prefix):blocked:\(kind.rawValue):", "\(prefix):history:\(kind.rawValue):", cursor ?? "", String(max(1, limit)), String(milliseconds(historyWindow))])
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
        let reply = try await run(
            RedisScripts.state, keys: [self.key("failed", key), self.key("blocked", key), self.key("history", key)], arguments: [String(milliseconds(historyWindow))])
        guard let values = reply.elements, values.count == 4, let failures = values[0].int, let value = values[1].string,
            let ttl = values[2].int, let lockouts = values[3].int
        else { throw malformed(reply) }
        let block = value.isEmpty ? nil : BlockInfo(
            key: key, remaining: ttl < 0 ? nil : .milliseconds(ttl), isManual: value == "m", lockoutCount: Int(lockouts))
        return KeyState(failures: Int(failures), block: block, lockoutCount: Int(lockouts))
    }

    // MARK: Helpers

    private func run(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        do {
            return try await client.run(script, keys: keys, arguments: arguments)
        } catch let error as RedisError {
            // Every Redis error becomes the store's: an outage (unreachable, READONLY, LOADING, OOM, …) or a fault
            // (WRONGTYPE, a script error). Both go through the failure policy; neither reaches a login as a 500.
            throw DefenderError(error.isUnavailable ? .storeUnavailable : .storeFault, error.description)
        }
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

    private func flag(_ value: Bool) -> String { value ? "1" : "0" }

    private func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
