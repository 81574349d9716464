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

/// Consumes the username's pending link when it holds `nonce`: compare and delete in one step, so that one link
/// unlocks once however many requests race. Returns 1 when it did.
struct ConsumeUnlockLinkCall: ScriptCall {
    var link: String
    var nonce: String

    static let fields: [ScriptField<Self>] = [.key("link") { $0.link }, .text("nonce") { $0.nonce }]

    static let script = makeScript(.allowOOM, body: """
        if redis.call('GET', link) ~= nonce then return 0 end
        redis.call('DEL', link)
        return 1
        """)
}
