extension RedisScripts {
    /// Shared helpers, prepended to every script.
    static let prelude = BlockMark.luaConstants + """
        -- A username's tag in an IP's long window: a hash, never the text.
        local function user_tag(username)
          return string.sub(redis.sha1hex(username), 1, 16)
        end
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function block_state(key)
          if not key then return nil end
          local v = redis.call('GET', key)
          if not v then return nil end
          return { v, redis.call('PTTL', key) }
        end
        -- A shared address's own block, beside its pair's (`blocked_addr` is `blocked_ip` for any other client): only
        -- an every-mode block of the address (an operator's, spraying) refuses its pairs.
        local function addr_state(blocked_ip, blocked_addr)
          if blocked_addr == blocked_ip then return nil end
          local a = block_state(blocked_addr)
          if a and a[1] ~= AUTOMATIC then return a end
          return nil
        end
        local function locked(ip_blocked, user_blocked, dis_ip, dis_user, and_mode)
          if dis_ip and dis_user then return false end
          if dis_ip then return user_blocked end
          if dis_user then return ip_blocked end
          if and_mode then return ip_blocked and user_blocked end
          return ip_blocked or user_blocked
        end
        -- The block index: `index` (scores 0, paged by name) and `expiry` (the same members scored by when their
        -- block lapses, +inf when permanent). Each write drops lapsed members (a bounded batch) and keeps both
        -- keys' TTL at the longest member's, so nothing here outlives the blocks it lists.
        local function index_tidy(index, expiry)
          local now = now_ms()
          local lapsed = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, 1000)
          if #lapsed > 0 then
            redis.call('ZREM', index, unpack(lapsed))
            redis.call('ZREM', expiry, unpack(lapsed))
          end
          local last = redis.call('ZRANGE', expiry, -1, -1, 'WITHSCORES')
          if #last == 0 then
            redis.call('DEL', index, expiry)
          elseif last[2] == 'inf' then
            redis.call('PERSIST', index)
            redis.call('PERSIST', expiry)
          else
            local at = math.floor(tonumber(last[2])) + 1000
            redis.call('PEXPIREAT', index, at)
            redis.call('PEXPIREAT', expiry, at)
          end
        end
        -- Lists `member` as blocked by the key `blocked`, until that key lapses.
        local function index_put(index, expiry, member, blocked)
          local ttl = redis.call('PTTL', blocked)
          if ttl == -2 then return end
          local score = '+inf'
          if ttl >= 0 then score = now_ms() + ttl end
          redis.call('ZADD', index, 0, member)
          redis.call('ZADD', expiry, score, member)
          index_tidy(index, expiry)
        end
        local function index_drop(index, expiry, member)
          redis.call('ZREM', index, member)
          redis.call('ZREM', expiry, member)
          index_tidy(index, expiry)
        end
        -- Lifts a key's block, counter, spray record and long window (not its history), drops it from the index and,
        -- when a block was lifted, announces it so that every instance's cache forgets it. Returns 1 when it was blocked.
        local function lift_key(failed, blocked, spray, long, index, expiry, member, channel, note)
          local existed = redis.call('DEL', blocked)
          redis.call('DEL', failed, spray, long)
          index_drop(index, expiry, member)
          if existed == 1 then redis.pcall('PUBLISH', channel, note) end
          return existed
        end
        -- A block's time left (-1 permanent, -2 none) and whether it locks in every mode (1: manual or spraying).
        local function block_detail(b)
          if not b then return -2, 0 end
          local ttl = b[2]
          if ttl < 0 then ttl = -1 end
          if b[1] == AUTOMATIC then return ttl, 0 end
          return ttl, 1
        end
        -- { locked, retry_ms, ip_included, user_included, ip_ttl, ip_every_mode, user_ttl, user_every_mode,
        -- addr_included, addr_ttl }: the ttl/every values describe the blocks seen, so that each instance can remember
        -- them (`RedisBlockCache`). The rule of `LockoutPolicy.lockout(ip:username:address:)`: every block that locks
        -- is named, and the retry is when the request is free again (every-mode blocks lifted, a shared address's
        -- among them, and the mode's part: in AND mode either dimension's block lifted, otherwise the last automatic
        -- one); -1 = never by itself. `addr` is an every-mode block or nil.
        local function decide(ip, user, dis_ip, dis_user, and_mode, addr)
          local ip_ttl, ip_every = block_detail(ip)
          local user_ttl, user_every = block_detail(user)
          local addr_ttl = block_detail(addr)
          local ip_b = ip ~= nil and not dis_ip
          local user_b = user ~= nil and not dis_user
          local mode = locked(ip_b, user_b, dis_ip, dis_user, and_mode)
          local f_ip, f_user, f_addr = 0, 0, 0
          local lifts = {}
          if addr then f_addr = 1; table.insert(lifts, addr_ttl) end
          if ip_every == 1 then f_ip = 1; table.insert(lifts, ip_ttl) end
          if user_every == 1 then f_user = 1; table.insert(lifts, user_ttl) end
          if mode then
            if ip_b and ip_every == 0 then f_ip = 1 end
            if user_b and user_every == 0 then f_user = 1 end
            if and_mode and not dis_ip and not dis_user then
              local first = ip_ttl
              if ip_ttl == -1 or (user_ttl ~= -1 and user_ttl < ip_ttl) then first = user_ttl end
              table.insert(lifts, first)
            else
              if ip_b and ip_every == 0 then table.insert(lifts, ip_ttl) end
              if user_b and user_every == 0 then table.insert(lifts, user_ttl) end
            end
          end
          if f_ip == 0 and f_user == 0 and f_addr == 0 then return { 0, 0, 0, 0, -2, 0, -2, 0, 0, -2 } end
          local retry = 0
          for _, t in ipairs(lifts) do
            if t == -1 or retry == -1 then retry = -1 elseif t > retry then retry = t end
          end
          return { 1, retry, f_ip, f_user, ip_ttl, ip_every, user_ttl, user_every, f_addr, addr_ttl }
        end

        """
}
