/// Records an unlock e-mail: counts it in the username's day (the counter's TTL, set by the first e-mail), and adds
/// `nonce` to the username's pending links until `link_ms` from now, keeping the earlier ones that have not expired
/// (at most `cap`, the oldest dropped first): an e-mail whose sending fails leaves the link already in the owner's
/// inbox working. Returns 0, writing nothing, when the day's limit is reached.
struct RecordUnlockMailCall: ScriptCall {
    var mails: String
    var links: String
    var nonce: String
    var linkMS: Int64
    var dayMS: Int64
    var limit: Int64
    var cap: Int64

    static let fields: [ScriptField<Self>] = [
        .key("mails") { $0.mails }, .key("links") { $0.links }, .text("nonce") { $0.nonce },
        .number("link_ms") { $0.linkMS }, .number("day_ms") { $0.dayMS }, .number("limit") { $0.limit }, .number("cap") { $0.cap },
    ]

    static let script = makeScript(.writes, body: """
        local sent = tonumber(redis.call('GET', mails) or '0')
        if sent >= limit then return 0 end
        if redis.call('INCR', mails) == 1 then redis.call('PEXPIRE', mails, day_ms) end
        local now = now_ms()
        local pending = redis.call('HGETALL', links)
        local live = {}
        for i = 1, #pending, 2 do
          local expires = tonumber(pending[i + 1])
          if expires <= now then redis.call('HDEL', links, pending[i]) else live[#live + 1] = { pending[i], expires } end
        end
        if #live >= cap then
          table.sort(live, function(a, b) return a[2] < b[2] end)
          for i = 1, #live - cap + 1 do redis.call('HDEL', links, live[i][1]) end
        end
        redis.call('HSET', links, nonce, now + link_ms)
        if redis.call('PTTL', links) < link_ms then redis.call('PEXPIRE', links, link_ms) end
        return 1
        """)
}

/// Redeems one of the username's pending links in one step (`AttemptStore.redeemUnlockLink`): under an operator's
/// block nothing changes (returns 2); else, when `nonce` is a pending link that has not expired, every pending link
/// is deleted (one unlock uses them all) and the username's block, counter and spray record are lifted by the
/// prelude's `lift_key`, as `UnblockCall` lifts them (returns 1, or 3 when a block was lifted and announced on the
/// channel); else 0. One script, so that one link unlocks once however many requests race, an operator's block
/// written at the same moment is never lifted, and no failure can leave the link used with the lock in place.
struct RedeemUnlockLinkCall: ScriptCall {
    var links: String
    var nonce: String
    var lifted: LiftedKey

    static let fields: [ScriptField<Self>] = [.key("links") { $0.links }, .text("nonce") { $0.nonce }] + LiftedKey.fields { $0.lifted }

    static let script = makeScript(.allowOOM, body: """
        if redis.call('GET', blocked) == MANUAL then return 2 end
        local expires = tonumber(redis.call('HGET', links, nonce) or '0')
        if expires <= now_ms() then return 0 end
        redis.call('DEL', links)
        if \(LiftedKey.lua) == 1 then return 3 end
        return 1
        """)
}
