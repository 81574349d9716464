/// The keys of one dimension that a recorded outcome touches.
struct OutcomeKeys: Sendable {
    var failed: String
    var blocked: String
    var history: String
    var index: String
    var expiry: String
    var inflight: String
    /// Failure times within the long window: a sorted set scored by time (ms), members `TIME:NONCE`, and for an IP
    /// under `SuccessReset/own` `TIME:NONCE:TAG`, where TAG is the first 16 hex digits of the username's SHA-1 (so
    /// that its success can take out its own; never the text, which may be a password typed in the wrong field).
    var long: String
    /// The index member: the key's value.
    var member: String
}

/// Counts a failed login, blocks whatever crossed its limit (counters, then password spraying), and releases the
/// reservation. Returns `decide`'s ten values (the lockout and the blocks seen), then { ip_failures,
/// user_failures, ip_newly, user_newly, ip_by_long_window, user_by_long_window, ip_long_failures,
/// user_long_failures, address_newly }.
///
/// Spraying is counted on `address`: a shared address's own keys when `ip` is its pair, else the IP's own (the same
/// keys as `ip`).
struct RecordFailureCall: ScriptCall {
    var ip: OutcomeKeys
    var address: OutcomeKeys
    var spray: String
    /// The spraying limit for this client (a shared address has its own), as encoded once per policy.
    var sprayLimit: String
    /// Whether `ip` is a shared address's pair (its failures are all one username's: no `own` counter).
    var isPair: Bool
    var user: OutcomeKeys?
    /// This username's failures from this IP (`SuccessReset/own`).
    var pair: String?
    var reservation: String?
    var jitterMS: Int64
    /// Makes this failure's long-window members unique (two failures may share a millisecond).
    var nonce: String
    var policy: EncodedPolicy

    static let fields: [ScriptField<Self>] = [
        .key("failed_ip") { $0.ip.failed }, .key("blocked_ip") { $0.ip.blocked }, .key("history_ip") { $0.ip.history },
        .key("index_ip") { $0.ip.index }, .key("expiry_ip") { $0.ip.expiry }, .key("inflight_ip") { $0.ip.inflight },
        .key("spray_addr") { $0.spray }, .key("long_ip") { $0.ip.long },
        .key("blocked_addr") { $0.address.blocked }, .key("history_addr") { $0.address.history },
        .key("index_addr") { $0.address.index }, .key("expiry_addr") { $0.address.expiry }, .key("inflight_addr") { $0.address.inflight },
        .usernameKey("failed_user") { $0.user?.failed }, .usernameKey("blocked_user") { $0.user?.blocked },
        .usernameKey("history_user") { $0.user?.history }, .usernameKey("index_user") { $0.user?.index },
        .usernameKey("expiry_user") { $0.user?.expiry }, .usernameKey("inflight_user") { $0.user?.inflight },
        .usernameKey("pair") { $0.pair }, .usernameKey("long_user") { $0.user?.long },
        .encodedNumber("ip_limit") { $0.policy.ipLimit }, .encodedNumber("user_limit") { $0.policy.usernameLimit },
        .encodedNumber("attempt_ms") { $0.policy.attemptCooloffMS }, .encodedNumber("history_ms") { $0.policy.historyMS },
        .flag("dis_ip") { $0.policy.disableIP }, .flag("dis_user") { $0.policy.disableUsername },
        .flag("own_reset") { $0.policy.ownReset }, .flag("and_mode") { $0.policy.andMode },
        .text("ip_member") { $0.ip.member }, .optionalText("user_member") { $0.user?.member },
        .text("addr_member") { $0.address.member }, .flag("is_pair") { $0.isPair },
        .optionalText("reservation") { $0.reservation }, .number("jitter") { $0.jitterMS },
        .encodedNumber("spray_limit") { $0.sprayLimit }, .encodedNumber("spray_window") { $0.policy.sprayWindowMS },
        .numbers("cooloffs") { $0.policy.cooloffsMS },
        .encodedNumber("long_ip_limit") { $0.policy.longIPLimit }, .encodedNumber("long_user_limit") { $0.policy.longUsernameLimit },
        .encodedNumber("long_ms") { $0.policy.longWindowMS }, .text("nonce") { $0.nonce },
    ]

    static let script = makeScript(.writes, body: """
        if reservation then
          redis.call('ZREM', inflight_ip, reservation)
          if inflight_addr ~= inflight_ip then redis.call('ZREM', inflight_addr, reservation) end
          if has_user then redis.call('ZREM', inflight_user, reservation) end
        end
        local now = now_ms()
        local function cooloff(previous)
          local index = previous + 1
          if index > #cooloffs then index = #cooloffs end
          return cooloffs[index]
        end
        local function set_block(key, ms, mark)
          if ms > 0 then redis.call('SET', key, mark, 'PX', ms + jitter) else redis.call('SET', key, mark) end
        end
        -- A new automatic block (AUTOMATIC, or SPRAY) at the next escalation step, kept in the history.
        local function lock_out(blocked, history, lockouts, mark, tag)
          set_block(blocked, cooloff(lockouts), mark)
          -- With no window (`history_ms` 0) nothing ever counts a past lockout: no history is kept (one kept for a
          -- permanent block had no TTL, and outlived the block's unblock forever).
          if history_ms > 0 then
            redis.call('ZADD', history, now, now .. ':' .. tag .. ':' .. lockouts)
            redis.call('ZREMRANGEBYRANK', history, 0, -(#cooloffs + 1))
          end
        end
        -- Keeps the lockout history for the window and lists the block.
        local function remember(blocked, history, index, expiry, member)
          if history_ms > 0 then redis.call('PEXPIRE', history, history_ms) end
          index_put(index, expiry, member, blocked)
        end
        local function count(key)
          local n = redis.call('INCR', key)
          if attempt_ms > 0 then redis.call('PEXPIRE', key, attempt_ms) else redis.call('PERSIST', key) end
          return n
        end
        -- Adds this failure to a long window; returns how many it holds (the newest long_limit + 1 at most).
        local function count_long(long, long_limit, tail)
          if long_limit <= 0 then return 0 end
          redis.call('ZREMRANGEBYSCORE', long, '-inf', now - long_ms)
          redis.call('ZADD', long, now, now .. ':' .. nonce .. tail)
          redis.call('ZREMRANGEBYRANK', long, 0, -(long_limit + 2))
          redis.call('PEXPIRE', long, long_ms)
          return redis.call('ZCARD', long)
        end
        -- Returns failures, crossed, newly blocked, newly blocked by the long window alone.
        -- Returns failures, crossed, newly blocked, newly blocked by the long window alone, failures in the window.
        local function fail(failed, blocked, history, index, expiry, member, limit, long, long_limit, tail)
          local n = count(failed)
          local in_long_window = count_long(long, long_limit, tail)
          local by_long = n <= limit
          if by_long and in_long_window <= long_limit then return n, false, false, false, in_long_window end
          redis.call('ZREMRANGEBYSCORE', history, '-inf', now - history_ms)
          local existing = redis.call('GET', blocked)
          local lockouts = redis.call('ZCARD', history)
          local newly = false
          if existing then
            if existing == AUTOMATIC then set_block(blocked, cooloff(math.max(0, lockouts - 1)), AUTOMATIC) end
          else
            lock_out(blocked, history, lockouts, AUTOMATIC, n)
            newly = true
          end
          remember(blocked, history, index, expiry, member)
          return n, true, newly, newly and by_long, in_long_window
        end
        local ip_n, user_n, ip_x, user_x, ip_new, user_new, ip_long, user_long = 0, 0, false, false, false, false, false, false
        local ip_long_n, user_long_n = 0, 0
        if not dis_ip then
          local tail = ''
          if has_user and own_reset and not is_pair then tail = ':' .. user_tag(user_member) end
          ip_n, ip_x, ip_new, ip_long, ip_long_n = fail(failed_ip, blocked_ip, history_ip, index_ip, expiry_ip, ip_member, ip_limit,
            long_ip, long_ip_limit, tail)
        end
        if has_user and not dis_user then
          user_n, user_x, user_new, user_long, user_long_n = fail(failed_user, blocked_user, history_user, index_user, expiry_user, user_member,
            user_limit, long_user, long_user_limit, '')
          if own_reset and not dis_ip and not is_pair then count(pair) end
        end
        -- Spraying, on the address (for a pair: the shared address itself, which it then blocks as a whole).
        local spray_x, addr_new = false, false
        if spray_limit > 0 and has_user then
          redis.call('ZREMRANGEBYSCORE', spray_addr, '-inf', now)
          redis.call('ZADD', spray_addr, now + spray_window, user_member)
          redis.call('PEXPIRE', spray_addr, spray_window)
          if redis.call('ZCARD', spray_addr) > spray_limit then
            -- Keep the newest limit + 1: enough to see the next distinct username cross again.
            redis.call('ZREMRANGEBYRANK', spray_addr, 0, -(spray_limit + 2))
            local existing = redis.call('GET', blocked_addr)
            if existing == AUTOMATIC then
              -- Blocked by its counter already: from now on it locks in every mode.
              redis.call('SET', blocked_addr, SPRAY, 'KEEPTTL')
              spray_x = true
            elseif not existing then
              redis.call('ZREMRANGEBYSCORE', history_addr, '-inf', now - history_ms)
              lock_out(blocked_addr, history_addr, redis.call('ZCARD', history_addr), SPRAY, SPRAY)
              remember(blocked_addr, history_addr, index_addr, expiry_addr, addr_member)
              if is_pair then addr_new = true else ip_new = true end
              spray_x = true
            end
          end
        end
        local result = { 0, 0, 0, 0, -2, 0, -2, 0, 0, -2 }
        if spray_x then
          -- Beside the spraying block, whatever else this failure blocked (its Retry-After may be later).
          local user_b = nil
          if user_x then user_b = block_state(blocked_user) end
          if is_pair then
            local ip_b = nil
            if ip_x then ip_b = block_state(blocked_ip) end
            result = decide(ip_b, user_b, dis_ip, dis_user, and_mode, block_state(blocked_addr))
          else
            result = decide(block_state(blocked_ip), user_b, dis_ip, dis_user, and_mode, nil)
          end
        elseif locked(ip_x, user_x, dis_ip, dis_user, and_mode) then
          local ip_b, user_b = nil, nil
          if ip_x then ip_b = block_state(blocked_ip) end
          if user_x then user_b = block_state(blocked_user) end
          result = decide(ip_b, user_b, dis_ip, dis_user, and_mode)
        end
        table.insert(result, ip_n)
        table.insert(result, user_n)
        table.insert(result, ip_new and 1 or 0)
        table.insert(result, user_new and 1 or 0)
        table.insert(result, ip_long and 1 or 0)
        table.insert(result, user_long and 1 or 0)
        table.insert(result, ip_long_n)
        table.insert(result, user_long_n)
        table.insert(result, addr_new and 1 or 0)
        return result
        """)
}

/// Applies a successful login (clears what the reset mode says) and releases the reservation.
/// Returns { user_unblocked, ip_unblocked }.
struct RecordSuccessCall: ScriptCall {
    var ip: OutcomeKeys
    /// A shared address's slots (spraying), else the IP's.
    var inflightAddress: String
    /// Whether `ip` is a shared address's pair: under `own` its success clears it whole (all its failures are the
    /// username's).
    var isPair: Bool
    var user: OutcomeKeys?
    var pair: String?
    var reservation: String?
    var policy: EncodedPolicy
    /// Where lifted blocks are announced to every instance's cache, and what names them there.
    var channel: String
    var ipNote: String
    var userNote: String?

    static let fields: [ScriptField<Self>] = [
        .key("failed_ip") { $0.ip.failed }, .key("blocked_ip") { $0.ip.blocked }, .key("index_ip") { $0.ip.index },
        .key("expiry_ip") { $0.ip.expiry }, .key("inflight_ip") { $0.ip.inflight }, .key("long_ip") { $0.ip.long },
        .key("inflight_addr") { $0.inflightAddress }, .flag("is_pair") { $0.isPair },
        .usernameKey("failed_user") { $0.user?.failed }, .usernameKey("blocked_user") { $0.user?.blocked },
        .usernameKey("index_user") { $0.user?.index }, .usernameKey("expiry_user") { $0.user?.expiry },
        .usernameKey("inflight_user") { $0.user?.inflight }, .usernameKey("pair") { $0.pair },
        .usernameKey("long_user") { $0.user?.long },
        .text("reset") { $0.policy.reset }, .flag("and_mode") { $0.policy.andMode },
        .text("ip_member") { $0.ip.member }, .optionalText("user_member") { $0.user?.member },
        .optionalText("reservation") { $0.reservation },
        .text("channel") { $0.channel }, .text("ip_note") { $0.ipNote }, .optionalText("user_note") { $0.userNote },
    ]

    static let script = makeScript(.allowOOM, body: """
        local user_un, ip_un = 0, 0
        if reservation then
          redis.call('ZREM', inflight_ip, reservation)
          if inflight_addr ~= inflight_ip then redis.call('ZREM', inflight_addr, reservation) end
          if has_user then redis.call('ZREM', inflight_user, reservation) end
        end
        -- A success lifts only the block failures caused: never an operator's (MANUAL) or a spray block, which it
        -- meets only when admitted before the block landed, or under a dry run.
        local function lifts(blocked)
          local mark = redis.call('GET', blocked)
          return mark and mark ~= MANUAL and mark ~= SPRAY
        end
        if has_user then
          if lifts(blocked_user) then user_un = redis.call('DEL', blocked_user) end
          redis.call('DEL', failed_user, long_user)
          if user_un == 1 then
            index_drop(index_user, expiry_user, user_member)
            redis.pcall('PUBLISH', channel, user_note)
          end
        end
        if (reset == 'all' and not and_mode) or (reset == 'own' and is_pair) then
          if lifts(blocked_ip) then ip_un = redis.call('DEL', blocked_ip) end
          redis.call('DEL', failed_ip, long_ip)
          if ip_un == 1 then
            index_drop(index_ip, expiry_ip, ip_member)
            redis.pcall('PUBLISH', channel, ip_note)
          end
        elseif reset == 'own' and has_user then
          local own = tonumber(redis.call('GET', pair) or '0')
          redis.call('DEL', pair)
          if own > 0 and redis.call('EXISTS', failed_ip) == 1 then
            -- DECRBY keeps the counter's TTL; a counter at zero is removed.
            if redis.call('DECRBY', failed_ip, own) <= 0 then redis.call('DEL', failed_ip) end
          end
          -- This username's failures leave the IP's long window too: members are TIME:NONCE:TAG (none of the three
          -- holds a colon), at most the long-window limit + 1 of them.
          local tag = user_tag(user_member)
          for _, failure in ipairs(redis.call('ZRANGE', long_ip, 0, -1)) do
            if string.match(failure, '^[^:]*:[^:]*:(.*)$') == tag then redis.call('ZREM', long_ip, failure) end
          end
        end
        return { user_un, ip_un }
        """)
}
