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
        /// The server answered the command with an error reply (`-ERR`, `-WRONGTYPE`, …); see ``RedisError/prefix``.
        public static let serverError = Code("serverError")
        /// A connection could not be made in time, or broke.
        public static let connectionFailed = Code("connectionFailed")
        /// A command got no reply within its deadline.
        public static let timeout = Code("timeout")
        /// `AUTH` or `SELECT` was refused during the handshake.
        public static let handshakeFailed = Code("handshakeFailed")
        /// The URL is not a valid Redis URL.
        public static let invalidURL = Code("invalidURL")
        /// The client was shut down.
        public static let shutDown = Code("shutDown")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// For server errors, the first word of the reply: `NOSCRIPT`, `WRONGTYPE`, `NOAUTH`, `WRONGPASS`, …
    public var prefix: String? {
        guard code == .serverError else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    public var description: String { "Redis \(code): \(message)" }
}
