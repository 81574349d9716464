/// Records an unlock e-mail: counts it in the username's day (the counter's TTL, set by the first e-mail), and
/// makes `nonce` the username's pending link for `link_ms`, replacing any earlier one. Returns 0, writing nothing,
/// when the day's limit is reached.
struct RecordUnlockMailCall: ScriptCall {
    var mails: String
    var link: String
    var nonce: String
    var linkMS: Int64
    var dayMS: Int64
    var limit: Int64

    static let fields: [ScriptField<Self>] = [
        .key("mails") { $0.mails }, .key("link") { $0.link }, .text("nonce") { $0.nonce },
        .number("link_ms") { $0.linkMS }, .number("day_ms") { $0.dayMS }, .number("limit") { $0.limit },
    ]

    static let script = makeScript(.writes, body: """
        local sent = tonumber(redis.call('GET', mails) or '0')
        if sent >= limit then return 0 end
        if redis.call('INCR', mails) == 1 then redis.call('PEXPIRE', mails, day_ms) end
        redis.call('SET', link, nonce, 'PX', link_ms)
        return 1
        """)
}

/// Redeems the username's pending link in one step (`AttemptStore.redeemUnlockLink`): under an operator's block
/// nothing changes (returns 2); else, when the link holds `nonce`, it is deleted and the username's block, counter
/// and spray record are lifted by the prelude's `lift_key`, as `UnblockCall` lifts them (returns 1, or 3 when a block
/// was lifted and announced on the channel); else 0. One script, so that one link unlocks once however many requests
/// race, an operator's block written at the same moment is never lifted, and no failure can leave the link used with
/// the lock in place.
struct RedeemUnlockLinkCall: ScriptCall {
    var link: String
    var nonce: String
    var lifted: LiftedKey

    static let fields: [ScriptField<Self>] = [.key("link") { $0.link }, .text("nonce") { $0.nonce }] + LiftedKey.fields { $0.lifted }

    static let script = makeScript(.allowOOM, body: """
        if redis.call('GET', blocked) == MANUAL then return 2 end
        if redis.call('GET', link) ~= nonce then return 0 end
        redis.call('DEL', link)
        if \(LiftedKey.lua) == 1 then return 3 end
        return 1
        """)
}
