import DefenderCore

/// An operator's block; `lasts_ms` `nil` blocks until unblocked. Returns 1 when the key was not blocked. Announced on
/// the channel, so that every instance's cache learns it from Redis (its length may differ from a block cached).
struct BlockCall: ScriptCall {
    var blocked: String
    var index: String
    var expiry: String
    var member: String
    var lastsMS: Int64?
    var channel: String
    var note: String

    static let fields: [ScriptField<Self>] = [
        .key("blocked") { $0.blocked }, .key("index") { $0.index }, .key("expiry") { $0.expiry },
        .text("member") { $0.member }, .optionalNumber("lasts_ms") { $0.lastsMS },
        .text("channel") { $0.channel }, .text("note") { $0.note },
    ]

    static let script = makeScript(.writes, body: """
        local existed = redis.call('EXISTS', blocked)
        if lasts_ms then redis.call('SET', blocked, MANUAL, 'PX', lasts_ms) else redis.call('SET', blocked, MANUAL) end
        index_put(index, expiry, member, blocked)
        redis.pcall('PUBLISH', channel, note)
        return 1 - existed
        """)
}

/// Clears a key's counter, block and spray record (not its history). Returns 1 when the key was blocked. A lifted
/// block is announced on the channel, so that every instance's cache drops it.
struct UnblockCall: ScriptCall {
    var lifted: LiftedKey

    static let fields: [ScriptField<Self>] = LiftedKey.fields { $0.lifted }

    static let script = makeScript(.allowOOM, body: "return \(LiftedKey.lua)")
}

/// What the prelude's `lift_key` clears for a key — its counter, block, spray and long-window records and its
/// place in the block index — and the note that announces it: spelt here once for every script that lifts a key
/// (`UnblockCall`, `RedeemUnlockLinkCall`).
struct LiftedKey: Sendable {
    var failed, blocked, spray, long, index, expiry: String
    var member, channel, note: String

    init(_ key: DefenderKey, in keys: RedisKeySpace) {
        failed = keys.key(.failed, key)
        blocked = keys.key(.blocked, key)
        spray = keys.key(.spray, key)
        long = keys.key(.long, key)
        index = keys.index(key.kind)
        expiry = keys.expiry(key.kind)
        member = key.value
        channel = keys.channel
        note = RedisBlockCache.message(for: key)
    }

    /// The Lua call that lifts the key; it returns 1 when a block was lifted.
    static let lua = "lift_key(failed, blocked, spray, long, index, expiry, member, channel, note)"

    /// The fields a call sends for its lifted key, named as ``lua`` reads them.
    static func fields<Call>(_ lifted: @escaping @Sendable (Call) -> LiftedKey) -> [ScriptField<Call>] {
        [
            .key("failed") { lifted($0).failed }, .key("blocked") { lifted($0).blocked }, .key("spray") { lifted($0).spray },
            .key("long") { lifted($0).long }, .key("index") { lifted($0).index }, .key("expiry") { lifted($0).expiry },
            .text("member") { lifted($0).member }, .text("channel") { lifted($0).channel }, .text("note") { lifted($0).note },
        ]
    }
}

/// One page of active blocks of a kind, by name after `cursor`; lapsed members are dropped from the index.
/// Returns { next_cursor ('' on the last page), member, ttl, manual, lockouts, member, … }.
struct BlocksCall: ScriptCall {
    var index: String
    var expiry: String
    var blockedPrefix: String
    var historyPrefix: String
    var cursor: String?
    var limit: Int64
    var historyMS: Int64

    static let fields: [ScriptField<Self>] = [
        .key("index") { $0.index }, .key("expiry") { $0.expiry },
        .text("blocked_prefix") { $0.blockedPrefix }, .text("history_prefix") { $0.historyPrefix },
        .optionalText("cursor") { $0.cursor }, .number("limit") { $0.limit }, .number("history_ms") { $0.historyMS },
    ]

    static let script = makeScript(.allowOOM, body: """
        local start = '-'
        if cursor then start = '(' .. cursor end
        local now = now_ms()
        local out = { '' }
        local found = 0
        local scanned = 0
        while found < limit and scanned < limit * 10 do
          local batch = redis.call('ZRANGEBYLEX', index, start, '+', 'LIMIT', 0, limit)
          if #batch == 0 then return out end
          for _, member in ipairs(batch) do
            scanned = scanned + 1
            start = '(' .. member
            local b = block_state(blocked_prefix .. member)
            if b then
              local history = history_prefix .. member
              redis.call('ZREMRANGEBYSCORE', history, '-inf', now - history_ms)
              table.insert(out, member)
              table.insert(out, b[2])
              table.insert(out, b[1] == MANUAL and 1 or 0)
              table.insert(out, redis.call('ZCARD', history))
              found = found + 1
              if found == limit then
                if #redis.call('ZRANGEBYLEX', index, '(' .. member, '+', 'LIMIT', 0, 1) > 0 then out[1] = member end
                return out
              end
            else
              redis.call('ZREM', index, member)
              redis.call('ZREM', expiry, member)
            end
          end
        end
        if found < limit and scanned >= limit * 10 then out[1] = string.sub(start, 2) end
        return out
        """)
}

/// Everything about one key. Returns { failures, block mark or '', ttl, lockouts }.
struct StateCall: ScriptCall {
    var failed: String
    var blocked: String
    var history: String
    var historyMS: Int64

    static let fields: [ScriptField<Self>] = [
        .key("failed") { $0.failed }, .key("blocked") { $0.blocked }, .key("history") { $0.history },
        .number("history_ms") { $0.historyMS },
    ]

    static let script = makeScript(.allowOOM, body: """
        local now = now_ms()
        redis.call('ZREMRANGEBYSCORE', history, '-inf', now - history_ms)
        local b = block_state(blocked)
        local failures = tonumber(redis.call('GET', failed) or '0')
        if b then return { failures, b[1], b[2], redis.call('ZCARD', history) } end
        return { failures, '', -2, redis.call('ZCARD', history) }
        """)
}

/// Whether Redis takes writes again, during an outage in which only reads and deletions succeeded: sets a short-lived
/// key, with the flags of a script that adds data, so that a full Redis (`OOM`) or a replica (`READONLY`) refuses it
/// whole, as it refuses admissions. Returns 1.
struct ProbeWritesCall: ScriptCall {
    var probe: String

    static let fields: [ScriptField<Self>] = [.key("probe") { $0.probe }]

    static let script = makeScript(.writes, body: """
        redis.call('SET', probe, '1', 'PX', 1000)
        return 1
        """)
}
