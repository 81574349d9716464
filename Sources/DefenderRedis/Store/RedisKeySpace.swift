import DefenderCore

/// The names of every key the Redis store writes, under one prefix (`DefenderConfiguration/cachePrefix`): the
/// one place that spells them (see ``RedisAttemptStore`` for the layout and TTLs).
struct RedisKeySpace: Sendable {
    /// What a per-key record holds.
    enum Record: String, Sendable {
        /// The failure counter.
        case failed
        /// The block: a `BlockMark`.
        case blocked
        /// Lockout times, for escalation and reports.
        case history
        /// Admission slots in flight.
        case inflight
        /// Usernames that failed from an IP (password spraying).
        case spray
        /// Failure times within the long window (`DEFENDER_LONG_WINDOW`).
        case long
        /// A username's pending unlock links: a hash of nonce → when it expires (Unix ms); TTL: the newest link's.
        case unlockLinks = "links"
        /// A username's unlock e-mails in the day (TTL: the rest of the day).
        case mails
    }

    let prefix: String

    /// `P:record:kind:value`.
    func key(_ record: Record, _ key: DefenderKey) -> String { "\(prefix):\(record.rawValue):\(key.kind.rawValue):\(key.value)" }

    /// The start of every `record` key of one kind (for scripts that page through an index of members).
    func keyPrefix(_ record: Record, _ kind: DefenderKey.Kind) -> String { "\(prefix):\(record.rawValue):\(kind.rawValue):" }

    /// The blocked members of a kind, by name.
    func index(_ kind: DefenderKey.Kind) -> String { "\(prefix):index:\(kind.rawValue)" }

    /// The same members, by when their block lapses.
    func expiry(_ kind: DefenderKey.Kind) -> String { "\(prefix):expiry:\(kind.rawValue)" }

    /// The pub/sub channel on which lifted and manual blocks are announced to every instance's block cache.
    var channel: String { "\(prefix):blocks" }

    /// Set for a second by the probe that asks whether Redis takes writes again (``ProbeWritesCall``).
    var probe: String { "\(prefix):probe" }

    /// This username's failures from this IP (`SuccessReset/own`).
    func pair(_ ip: DefenderKey, _ username: DefenderKey) -> String { "\(prefix):failed:pair:\(ip.value)|\(username.value)" }
}

/// The value of a `blocked` key: which kind of block it is.
enum BlockMark: String, CaseIterable, Sendable {
    /// Failures over a limit: locks as the mode says (AND mode needs both keys).
    case automatic = "a"
    /// An operator's block: locks in every mode.
    case manual = "m"
    /// Password spraying from an IP: locks in every mode, like a manual block, but is not reported as manual.
    case spray = "s"

    /// The Lua constants the scripts compare with (`AUTOMATIC`, `MANUAL`, `SPRAY`).
    static var luaConstants: String {
        "local AUTOMATIC, MANUAL, SPRAY = '\(automatic.rawValue)', '\(manual.rawValue)', '\(spray.rawValue)'\n"
    }
}
