import DefenderCore

/// An error from the Redis client or store.
///
/// Messages never contain a password: URLs are shown redacted.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a growable set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ name: String) { description = name }
        /// The server sent bytes that are not valid RESP; the connection is closed.
        public static let protocolError = Code("protocolError")
        /// The command cannot be sent: it is empty (Redis would never answer it). Nothing was written.
        public static let invalidCommand = Code("invalidCommand")
        /// The server answered the command with an error reply (`-ERR`, `-WRONGTYPE`, …); see ``RedisError/reply``.
        public static let serverError = Code("serverError")
        /// A connection could not be made in time, or the command could not be written: the server never saw it.
        public static let connectionFailed = Code("connectionFailed")
        /// A connection broke while the command was out: whether the server ran it is unknown, so it is never sent
        /// again (a script run twice would count a failure twice).
        public static let connectionLost = Code("connectionLost")
        /// A command got no reply within its deadline.
        public static let timeout = Code("timeout")
        /// `AUTH` or `SELECT` was refused during the handshake.
        public static let handshakeFailed = Code("handshakeFailed")
        /// The URL is not a valid Redis URL.
        public static let invalidURL = Code("invalidURL")
        /// The client was shut down.
        public static let shutDown = Code("shutDown")
    }

    /// The kind of an error reply, from its first word: what the server meant, typed.
    public struct Reply: Hashable, Sendable, CustomStringConvertible {
        /// The reply's first word, as the server sent it (`READONLY`, `ERR`, …).
        public let description: String
        /// Whether the reply means "this server cannot serve now" — a primary demoted to a replica, a data set
        /// still loading, memory full, a busy script, a paused or split cluster — rather than a fault of the
        /// command. Such replies are an outage for the store's failure policy, like a lost connection.
        public let isUnavailable: Bool

        init(_ word: String) {
            description = word
            isUnavailable = Self.unavailable.contains(word)
        }

        /// The replica the client reached (a demoted primary, a failover in progress) refuses writes.
        public static let readOnly = Reply("READONLY")
        /// The server is loading its data set into memory.
        public static let loading = Reply("LOADING")
        /// A replica whose link to its primary is down (`replica-serve-stale-data no`).
        public static let masterDown = Reply("MASTERDOWN")
        /// A script or function is running past `busy-reply-threshold`.
        public static let busy = Reply("BUSY")
        /// `maxmemory` reached under a policy that does not evict (`noeviction`).
        public static let outOfMemory = Reply("OOM")
        /// A cluster slot is migrating: ask again shortly.
        public static let tryAgain = Reply("TRYAGAIN")
        /// The cluster cannot serve (slots uncovered, no quorum).
        public static let clusterDown = Reply("CLUSTERDOWN")
        /// `min-replicas-to-write` is not met.
        public static let noReplicas = Reply("NOREPLICAS")
        /// The last RDB save failed and `stop-writes-on-bgsave-error` is on.
        public static let misconfigured = Reply("MISCONF")
        /// The connection is no longer authenticated (the server restarted with a password).
        public static let noAuth = Reply("NOAUTH")
        /// The key lives on another cluster node.
        public static let moved = Reply("MOVED")
        /// The key is being migrated to another cluster node.
        public static let ask = Reply("ASK")
        /// The script is not in the server's cache (after `SCRIPT FLUSH` or a restart): send it with `EVAL`.
        public static let noScript = Reply("NOSCRIPT")
        /// A key holds another type than the script expects: data written by something else, or a script bug.
        public static let wrongType = Reply("WRONGTYPE")
        /// The generic error: a script error, a bad command or argument.
        public static let error = Reply("ERR")

        private static let unavailable: Set<String> = [
            "READONLY", "LOADING", "MASTERDOWN", "BUSY", "OOM", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "MISCONF", "NOAUTH",
            "MOVED", "ASK",
        ]
    }

    /// What kind of failure.
    public let code: Code
    /// What happened, for the person reading the log (never a password).
    public let message: String

    /// An error of a kind, with a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// For server errors, the first word of the reply: `NOSCRIPT`, `WRONGTYPE`, `NOAUTH`, `WRONGPASS`, …
    public var prefix: String? { reply?.description }

    /// For server errors, the reply's kind.
    public var reply: Reply? {
        guard code == .serverError, let word = message.split(separator: " ", maxSplits: 1).first else { return nil }
        return Reply(String(word))
    }

    /// Whether the server cannot be used now: it is unreachable, timed out, broke the protocol, or answered with a
    /// reply that means it cannot serve (`Reply/isUnavailable`). Any other error reply is a fault of the command, and
    /// so are a bad URL and an empty command (the caller's, whatever the server's state).
    public var isUnavailable: Bool { reply?.isUnavailable ?? (code != .invalidURL && code != .invalidCommand) }

    public var description: String { "Redis \(code): \(message)" }
}

extension RedisError: ReadableOutage {
    /// Replies that refuse writes (scripts flagged as adding data) while read-only scripts still run.
    package var storeStillReads: Bool {
        guard let reply else { return false }
        return reply == .readOnly || reply == .outOfMemory || reply == .misconfigured || reply == .noReplicas
    }
}
