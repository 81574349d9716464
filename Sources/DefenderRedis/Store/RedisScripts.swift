import DefenderCore

/// The Lua scripts of ``RedisAttemptStore``: each store operation is one script, one round trip, atomic. Each is a
/// `ScriptCall`: a struct whose fields name its keys and arguments, and which writes the prologue that names them
/// in Lua.
///
/// Block values are `BlockMark`s. Lockout history is a sorted set of lockout times (ms). Index sets
/// (`P:index:ip`, `P:index:username`, all scores 0) list blocked keys for paging by name without `KEYS`; beside
/// each, `P:expiry:ip` / `P:expiry:username` holds the same members scored by when their block lapses (`+inf` =
/// permanent). Every write to an index drops up to 1,000 lapsed members from both and sets both keys' TTL to the
/// longest member's (none only while a permanent block is listed), so the index is bounded by the active blocks
/// even if nobody ever lists them. Time is the server's (`TIME`), so every instance agrees.
///
/// Each script starts with a Redis 7 shebang (`ScriptFlags`), so that the server judges it before running it:
/// scripts that may add data are refused whole with `OOM` when `maxmemory` is reached under `noeviction` (a
/// script without flags would be let through, or stopped half way), and with `READONLY` on a replica; scripts that
/// only read run anywhere; scripts that only delete still free memory when it is full.
enum RedisScripts {
    /// Every script, loaded by each connection's handshake.
    static let all = [
        CheckCall.script, AdmitCall.script, InFlightCall.script, ReleaseCall.script, RecordFailureCall.script,
        RecordSuccessCall.script, BlockCall.script, UnblockCall.script, BlocksCall.script, StateCall.script,
        RecordUnlockMailCall.script, RedeemUnlockLinkCall.script, ProbeWritesCall.script,
    ]
}

/// Whether a request is locked now. Returns `decide`'s eight values: { locked, retry_ms, ip_included, user_included,
/// ip_ttl, ip_every_mode, user_ttl, user_every_mode, addr_included, addr_ttl }.
struct CheckCall: ScriptCall {
    var blockedIP: String
    /// The shared address's block key for a pair, else `blockedIP`.
    var blockedAddress: String
    var blockedUser: String?
    var policy: EncodedPolicy

    static let fields: [ScriptField<Self>] = [
        .key("blocked_ip") { $0.blockedIP }, .key("blocked_addr") { $0.blockedAddress }, .usernameKey("blocked_user") { $0.blockedUser },
        .flag("dis_ip") { $0.policy.disableIP }, .flag("dis_user") { $0.policy.disableUsername }, .flag("and_mode") { $0.policy.andMode },
    ]

    static let script = makeScript(.noWrites, body: """
        return decide(block_state(blocked_ip), block_state(blocked_user), dis_ip, dis_user, and_mode, addr_state(blocked_ip, blocked_addr))
        """)
}

/// Admission: refuse a locked request, or say it must wait (checks in flight could lock it), or reserve a slot on
/// each key that can lock. Slots are members of `P:inflight:…` sorted sets scored by their expiry (server time), so
/// a dead instance's slots lapse; the set itself expires with its newest slot.
/// Returns { state (0 admitted, 1 locked, 2 busy), retry_ms, ip_included, user_included }, and when locked the four
/// values of the blocks seen and the shared address's (`decide`).
///
/// For a shared address's pair, the `addr` keys are the address's: its block refuses, and spraying is counted (and
/// its slots held) there; for any other client they are the IP's own.
struct AdmitCall: ScriptCall {
    var ip: (blocked: String, failed: String, inflight: String, long: String)
    var address: (blocked: String, inflight: String, spray: String)
    /// The spraying limit for this client (a shared address has its own), as encoded once per policy.
    var sprayLimit: String
    var user: (blocked: String, failed: String, inflight: String, long: String)?
    var reservation: String
    var policy: EncodedPolicy

    static let fields: [ScriptField<Self>] = [
        .key("blocked_ip") { $0.ip.blocked }, .key("failed_ip") { $0.ip.failed }, .key("inflight_ip") { $0.ip.inflight },
        .key("long_ip") { $0.ip.long }, .key("blocked_addr") { $0.address.blocked }, .key("inflight_addr") { $0.address.inflight },
        .key("spray_addr") { $0.address.spray },
        .usernameKey("blocked_user") { $0.user?.blocked }, .usernameKey("failed_user") { $0.user?.failed },
        .usernameKey("inflight_user") { $0.user?.inflight }, .usernameKey("long_user") { $0.user?.long },
        .flag("dis_ip") { $0.policy.disableIP }, .flag("dis_user") { $0.policy.disableUsername }, .flag("and_mode") { $0.policy.andMode },
        .encodedNumber("ip_limit") { $0.policy.ipLimit }, .encodedNumber("user_limit") { $0.policy.usernameLimit },
        .text("reservation") { $0.reservation }, .encodedNumber("slot_ms") { $0.policy.slotMS },
        .encodedNumber("spray_limit") { $0.sprayLimit },
        .encodedNumber("long_ip_limit") { $0.policy.longIPLimit }, .encodedNumber("long_user_limit") { $0.policy.longUsernameLimit },
        .encodedNumber("long_ms") { $0.policy.longWindowMS },
    ]

    static let script = makeScript(.writes, body: """
        local ip_s, user_s = block_state(blocked_ip), block_state(blocked_user)
        local d = decide(ip_s, user_s, dis_ip, dis_user, and_mode, addr_state(blocked_ip, blocked_addr))
        if d[1] == 1 then return d end
        local now = now_ms()
        local function live(inflight)
          redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
          return redis.call('ZCARD', inflight)
        end
        -- Blocked, or could be by the checks in flight, all failing: by its counter or by its long window.
        local function may_be_blocked(state, failed, inflight, limit, long, long_limit)
          if state then return true end
          local n = live(inflight)
          if n == 0 then return false end
          if tonumber(redis.call('GET', failed) or '0') + n > limit then return true end
          return long_limit > 0 and redis.call('ZCOUNT', long, '(' .. (now - long_ms), '+inf') + n > long_limit
        end
        local ip_counts = not dis_ip
        local user_counts = has_user and not dis_user
        local spray_counts = spray_limit > 0 and has_user
        local ip_may = ip_counts and may_be_blocked(ip_s, failed_ip, inflight_ip, ip_limit, long_ip, long_ip_limit)
        local user_may = user_counts and may_be_blocked(user_s, failed_user, inflight_user, user_limit, long_user, long_user_limit)
        if locked(ip_may, user_may, dis_ip, dis_user, and_mode) then return { 2, 0, 0, 0 } end
        if spray_counts then
          -- Every check in flight from this address could add one more distinct failed username.
          local n = live(inflight_addr)
          if n > 0 and redis.call('ZCOUNT', spray_addr, '(' .. now, '+inf') + n > spray_limit then return { 2, 0, 0, 0 } end
        end
        if ip_counts or (spray_counts and inflight_addr == inflight_ip) then
          redis.call('ZADD', inflight_ip, now + slot_ms, reservation)
          redis.call('PEXPIRE', inflight_ip, slot_ms)
        end
        if spray_counts and inflight_addr ~= inflight_ip then
          redis.call('ZADD', inflight_addr, now + slot_ms, reservation)
          redis.call('PEXPIRE', inflight_addr, slot_ms)
        end
        if user_counts then
          redis.call('ZADD', inflight_user, now + slot_ms, reservation)
          redis.call('PEXPIRE', inflight_user, slot_ms)
        end
        return { 0, 0, 0, 0 }
        """)
}

/// The number of live slots on one key.
struct InFlightCall: ScriptCall {
    var inflight: String

    static let fields: [ScriptField<Self>] = [.key("inflight") { $0.inflight }]

    static let script = makeScript(.noWrites, body: """
        return redis.call('ZCOUNT', inflight, '(' .. now_ms(), '+inf')
        """)
}

/// Gives back an admitted request's slots.
struct ReleaseCall: ScriptCall {
    var inflightIP: String
    /// A shared address's slots (spraying), else `inflightIP`.
    var inflightAddress: String
    var inflightUser: String?
    var reservation: String

    static let fields: [ScriptField<Self>] = [
        .key("inflight_ip") { $0.inflightIP }, .key("inflight_addr") { $0.inflightAddress }, .usernameKey("inflight_user") { $0.inflightUser },
        .text("reservation") { $0.reservation },
    ]

    static let script = makeScript(.allowOOM, body: """
        redis.call('ZREM', inflight_ip, reservation)
        if inflight_addr ~= inflight_ip then redis.call('ZREM', inflight_addr, reservation) end
        if has_user then redis.call('ZREM', inflight_user, reservation) end
        return 1
        """)
}
