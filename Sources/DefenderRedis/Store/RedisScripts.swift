/// The Lua scripts of ``RedisAttemptStore``: each store operation is one script, one round trip, atomic.
///
/// Block values are `a` (automatic), `m` (manual) or `s` (password spraying; like `m`, it locks in every mode). Lockout history is a sorted set of lockout times (ms).
/// Index sets (`P:index:ip`, `P:index:username`, all scores 0) list blocked keys for paging by name without
/// `KEYS`; beside each, `P:expiry:ip` / `P:expiry:username` holds the same members scored by when their block
/// lapses (`+inf` = permanent). Every write to an index drops up to 1,000 lapsed members from both
/// and sets both keys' TTL to the longest member's (none only while a permanent block is listed), so the index
/// is bounded by the active blocks even if nobody ever lists them. Time is the server's (`TIME`), so every
/// instance agrees.
///
/// Each script starts with a Redis 7 shebang, so that the server judges it before running it: scripts that may
/// add data (`#!lua`) are refused whole with `OOM` when `maxmemory` is reached under `noeviction` (a script
/// without flags would be let through, or stopped half way), and with `READONLY` on a replica; scripts that only
/// read (`no-writes`) run anywhere; scripts that only delete (`allow-oom`) still free memory when it is full.
enum RedisScripts {
    /// Every script, loaded by each connection's handshake.
    static let all = [check, admit, inFlight, release, recordFailure, recordSuccess, block, unblock, blocks, state]

    /// KEYS: blocked ip, blocked user ('' when none). ARGV: disable ip, disable user, AND mode.
    static let check = RedisScript("#!lua flags=no-writes\n" + prelude + """
        return decide(block_state(KEYS[1]), block_state(KEYS[2]), ARGV[1] == '1', ARGV[2] == '1', ARGV[3] == '1')
        """)

    /// Admission: refuse a locked request, or say it must wait (checks in flight could lock it), or reserve a
    /// slot on each key that can lock. Slots are members of `P:inflight:…` sorted sets scored by their expiry
    /// (server time), so a dead instance's slots lapse; the set itself expires with its newest slot.
    /// KEYS: blocked ip, blocked user, failed ip, failed user, inflight ip, inflight user ('' when no username),
    /// spray ip. ARGV: disable ip, disable user, AND mode, ip limit, user limit, reservation id, slot ms, spray limit.
    /// Returns { state (0 admitted, 1 locked, 2 busy), retry_ms, ip_included, user_included }.
    static let admit = RedisScript("#!lua\n" + prelude + """
        local dis_ip, dis_user, and_mode = ARGV[1] == '1', ARGV[2] == '1', ARGV[3] == '1'
        local ip_s, user_s = block_state(KEYS[1]), block_state(KEYS[2])
        local d = decide(ip_s, user_s, dis_ip, dis_user, and_mode)
        if d[1] == 1 then return d end
        local now = now_ms()
        local function live(inflight)
          redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
          return redis.call('ZCARD', inflight)
        end
        local function may_be_blocked(state, failed, inflight, limit)
          if state then return true end
          local n = live(inflight)
          return n > 0 and tonumber(redis.call('GET', failed) or '0') + n > limit
        end
        local ip_counts = not dis_ip
        local user_counts = KEYS[2] ~= '' and not dis_user
        local spray_limit = tonumber(ARGV[8])
        local spray_counts = spray_limit > 0 and KEYS[2] ~= ''
        local ip_may = ip_counts and may_be_blocked(ip_s, KEYS[3], KEYS[5], tonumber(ARGV[4]))
        local user_may = user_counts and may_be_blocked(user_s, KEYS[4], KEYS[6], tonumber(ARGV[5]))
        if locked(ip_may, user_may, dis_ip, dis_user, and_mode) then return { 2, 0, 0, 0 } end
        if spray_counts then
          -- Every check in flight from this IP could add one more distinct failed username.
          local n = live(KEYS[5])
          if n > 0 and redis.call('ZCOUNT', KEYS[7], '(' .. now, '+inf') + n > spray_limit then return { 2, 0, 0, 0 } end
        end
        local ttl = tonumber(ARGV[7])
        if ip_counts or spray_counts then
          redis.call('ZADD', KEYS[5], now + ttl, ARGV[6])
          redis.call('PEXPIRE', KEYS[5], ttl)
        end
        if user_counts then
          redis.call('ZADD', KEYS[6], now + ttl, ARGV[6])
          redis.call('PEXPIRE', KEYS[6], ttl)
        end
        return { 0, 0, 0, 0 }
        """)

    /// KEYS: inflight. Returns the number of live slots.
    static let inFlight = RedisScript("#!lua flags=no-writes\n" + prelude + """
        return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf')
        """)

    /// KEYS: inflight ip, inflight user. ARGV: reservation id.
    static let release = RedisScript("""
        #!lua flags=allow-oom
        redis.call('ZREM', KEYS[1], ARGV[1])
        if KEYS[2] ~= '' then redis.call('ZREM', KEYS[2], ARGV[1]) end
        return 1
        """)

    /// KEYS: failed ip, blocked ip, history ip, failed user, blocked user, history user, pair, index ip, index user,
    /// inflight ip, inflight user, spray ip, expiry ip, expiry user.
    /// ARGV: ip limit, user limit, attempt ms, history ms, disable ip, disable user, has user, own reset, AND mode,
    /// ip member, user member, reservation id ('' = none), jitter ms, spray limit, spray window ms, cool-offs in ms...
    /// Returns { locked, retry_ms, ip_included, user_included, ip_failures, user_failures, ip_newly, user_newly }.
    static let recordFailure = RedisScript("#!lua\n" + prelude + """
        local attempt_ms = tonumber(ARGV[3])
        local history_ms = tonumber(ARGV[4])
        local cooloffs = {}
        for i = 16, #ARGV do table.insert(cooloffs, tonumber(ARGV[i])) end
        local jitter = tonumber(ARGV[13])
        if ARGV[12] ~= '' then
          redis.call('ZREM', KEYS[10], ARGV[12])
          redis.call('ZREM', KEYS[11], ARGV[12])
        end
        local now = now_ms()
        local function cooloff(previous)
          local index = previous + 1
          if index > #cooloffs then index = #cooloffs end
          return cooloffs[index]
        end
        local function set_block(key, ms, value)
          if ms > 0 then redis.call('SET', key, value, 'PX', ms + jitter) else redis.call('SET', key, value) end
        end
        -- A new automatic block (`value` a, or s for spraying) at the next escalation step, kept in the history.
        local function lock_out(blocked, history, lockouts, value, tag)
          set_block(blocked, cooloff(lockouts), value)
          redis.call('ZADD', history, now, now .. ':' .. tag .. ':' .. lockouts)
          redis.call('ZREMRANGEBYRANK', history, 0, -(#cooloffs + 1))
        end
        -- Keeps the lockout history for the window (or, with no window, as long as the block) and lists the block.
        local function remember(blocked, history, index, expiry, member)
          if history_ms > 0 then
            redis.call('PEXPIRE', history, history_ms)
          else
            local ttl = redis.call('PTTL', blocked)
            if ttl > 0 then redis.call('PEXPIRE', history, ttl) end
          end
          index_put(index, expiry, member, blocked)
        end
        local function count(key)
          local n = redis.call('INCR', key)
          if attempt_ms > 0 then redis.call('PEXPIRE', key, attempt_ms) else redis.call('PERSIST', key) end
          return n
        end
        -- Returns failures, crossed, newly blocked.
        local function fail(failed, blocked, history, index, expiry, member, limit)
          local n = count(failed)
          if n <= limit then return n, false, false end
          redis.call('ZREMRANGEBYSCORE', history, '-inf', now - history_ms)
          local existing = redis.call('GET', blocked)
          local lockouts = redis.call('ZCARD', history)
          local newly = false
          if existing then
            if existing == 'a' then set_block(blocked, cooloff(math.max(0, lockouts - 1)), 'a') end
          else
            lock_out(blocked, history, lockouts, 'a', n)
            newly = true
          end
          remember(blocked, history, index, expiry, member)
          return n, true, newly
        end
        local dis_ip, dis_user = ARGV[5] == '1', ARGV[6] == '1'
        local has_user, own, and_mode = ARGV[7] == '1', ARGV[8] == '1', ARGV[9] == '1'
        local ip_n, user_n, ip_x, user_x, ip_new, user_new = 0, 0, false, false, false, false
        if not dis_ip then
          ip_n, ip_x, ip_new = fail(KEYS[1], KEYS[2], KEYS[3], KEYS[8], KEYS[13], ARGV[10], tonumber(ARGV[1]))
        end
        if has_user and not dis_user then
          user_n, user_x, user_new = fail(KEYS[4], KEYS[5], KEYS[6], KEYS[9], KEYS[14], ARGV[11], tonumber(ARGV[2]))
          if own and not dis_ip then count(KEYS[7]) end
        end
        local spray_limit = tonumber(ARGV[14])
        local spray_x = false
        if spray_limit > 0 and has_user then
          local window = tonumber(ARGV[15])
          redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', now)
          redis.call('ZADD', KEYS[12], now + window, ARGV[11])
          redis.call('PEXPIRE', KEYS[12], window)
          if redis.call('ZCARD', KEYS[12]) > spray_limit then
            -- Keep the newest limit + 1: enough to see the next distinct username cross again.
            redis.call('ZREMRANGEBYRANK', KEYS[12], 0, -(spray_limit + 2))
            local existing = redis.call('GET', KEYS[2])
            if existing == 'a' then
              -- Blocked by its counter already: from now on it locks in every mode.
              redis.call('SET', KEYS[2], 's', 'KEEPTTL')
              spray_x = true
            elseif not existing then
              redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - history_ms)
              lock_out(KEYS[2], KEYS[3], redis.call('ZCARD', KEYS[3]), 's', 's')
              remember(KEYS[2], KEYS[3], KEYS[8], KEYS[13], ARGV[10])
              ip_new = true
              spray_x = true
            end
          end
        end
        local result = { 0, 0, 0, 0 }
        if spray_x then
          result = decide(block_state(KEYS[2]), nil, dis_ip, dis_user, and_mode)
        elseif locked(ip_x, user_x, dis_ip, dis_user, and_mode) then
          local ip_b, user_b = nil, nil
          if ip_x then ip_b = block_state(KEYS[2]) end
          if user_x then user_b = block_state(KEYS[5]) end
          result = decide(ip_b, user_b, dis_ip, dis_user, and_mode)
        end
        table.insert(result, ip_n)
        table.insert(result, user_n)
        table.insert(result, ip_new and 1 or 0)
        table.insert(result, user_new and 1 or 0)
        return result
        """)

    /// KEYS: failed user, blocked user, failed ip, blocked ip, pair, index ip, index user, inflight ip, inflight user,
    /// expiry ip, expiry user.
    /// ARGV: reset mode (all/own/username), AND mode, has user, ip member, user member, reservation id ('' = none).
    /// Returns { user_unblocked, ip_unblocked }.
    static let recordSuccess = RedisScript("#!lua flags=allow-oom\n" + prelude + """
        local user_un, ip_un = 0, 0
        if ARGV[6] ~= '' then
          redis.call('ZREM', KEYS[8], ARGV[6])
          redis.call('ZREM', KEYS[9], ARGV[6])
        end
        if ARGV[3] == '1' then
          user_un = redis.call('DEL', KEYS[2])
          redis.call('DEL', KEYS[1])
          if user_un == 1 then index_drop(KEYS[7], KEYS[11], ARGV[5]) end
        end
        if ARGV[1] == 'all' and ARGV[2] ~= '1' then
          ip_un = redis.call('DEL', KEYS[4])
          redis.call('DEL', KEYS[3])
          if ip_un == 1 then index_drop(KEYS[6], KEYS[10], ARGV[4]) end
        elseif ARGV[1] == 'own' and ARGV[3] == '1' then
          local own = tonumber(redis.call('GET', KEYS[5]) or '0')
          redis.call('DEL', KEYS[5])
          if own > 0 and redis.call('EXISTS', KEYS[3]) == 1 then
            -- DECRBY keeps the counter's TTL; a counter at zero is removed.
            if redis.call('DECRBY', KEYS[3], own) <= 0 then redis.call('DEL', KEYS[3]) end
          end
        end
        return { user_un, ip_un }
        """)

    /// KEYS: blocked, index, expiry. ARGV: ms (0 = permanent), member. Returns 1 when the key was not blocked.
    static let block = RedisScript("#!lua\n" + prelude + """
        local existed = redis.call('EXISTS', KEYS[1])
        if tonumber(ARGV[1]) > 0 then redis.call('SET', KEYS[1], 'm', 'PX', ARGV[1]) else redis.call('SET', KEYS[1], 'm') end
        index_put(KEYS[2], KEYS[3], ARGV[2], KEYS[1])
        return 1 - existed
        """)

    /// KEYS: failed, blocked, index, spray, expiry. ARGV: member. Returns 1 when the key was blocked.
    static let unblock = RedisScript("#!lua flags=allow-oom\n" + prelude + """
        local existed = redis.call('DEL', KEYS[2])
        redis.call('DEL', KEYS[1], KEYS[4])
        index_drop(KEYS[3], KEYS[5], ARGV[1])
        return existed
        """)

    /// KEYS: index, expiry. ARGV: blocked-key prefix, history-key prefix, cursor ('' = start), limit, history ms.
    /// Returns { next_cursor, member, ttl, manual, lockouts, member, … }; lapsed members are dropped from the index.
    static let blocks = RedisScript("#!lua\n" + prelude + """
        local limit = tonumber(ARGV[4])
        local start = '-'
        if ARGV[3] ~= '' then start = '(' .. ARGV[3] end
        local now = now_ms()
        local out = { '' }
        local found = 0
        local scanned = 0
        while found < limit and scanned < limit * 10 do
          local batch = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0, limit)
          if #batch == 0 then return out end
          for _, member in ipairs(batch) do
            scanned = scanned + 1
            start = '(' .. member
            local b = block_state(ARGV[1] .. member)
            if b then
              local history = ARGV[2] .. member
              redis.call('ZREMRANGEBYSCORE', history, '-inf', now - tonumber(ARGV[5]))
              table.insert(out, member)
              table.insert(out, b[2])
              table.insert(out, b[1] == 'm' and 1 or 0)
              table.insert(out, redis.call('ZCARD', history))
              found = found + 1
              if found == limit then
                if #redis.call('ZRANGEBYLEX', KEYS[1], '(' .. member, '+', 'LIMIT', 0, 1) > 0 then out[1] = member end
                return out
              end
            else
              redis.call('ZREM', KEYS[1], member)
              redis.call('ZREM', KEYS[2], member)
            end
          end
        end
        if found < limit and scanned >= limit * 10 then out[1] = string.sub(start, 2) end
        return out
        """)

    /// KEYS: failed, blocked, history. ARGV: history ms. Returns { failures, block value or '', ttl, lockouts }.
    static let state = RedisScript("#!lua\n" + prelude + """
        local now = now_ms()
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[1]))
        local b = block_state(KEYS[2])
        local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
        if b then return { failures, b[1], b[2], redis.call('ZCARD', KEYS[3]) } end
        return { failures, '', -2, redis.call('ZCARD', KEYS[3]) }
        """)
}
