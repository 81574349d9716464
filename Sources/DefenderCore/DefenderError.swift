/// An error raised by Defender.
///
/// One error type for the module, told apart by ``code``; new codes can be added without breaking anyone
/// who switches over them, because ``Code`` is a struct.
public struct DefenderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidConfiguration
            case malformedForwardingHeader
            case storeUnavailable
            case storeFault
            case invalidKey
            case admissionTimeout
            case mailFailed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A setting has a value that is not accepted; the message names the setting and the accepted forms.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A trusted proxy passed on a forwarding header whose client entry is not an address.
        public static let malformedForwardingHeader = Code(.malformedForwardingHeader)
        /// The attempt store could not be reached or answered wrongly.
        public static let storeUnavailable = Code(.storeUnavailable)
        /// The attempt store answered with an error that is not an outage: a key of the wrong type (data written
        /// by something else under Defender's prefix), a script error. Logged at `error` and applied through the
        /// outage policy like an outage, so that a login never gets a 500 for it.
        public static let storeFault = Code(.storeFault)
        /// An IP address or username given to an operator call is not valid.
        public static let invalidKey = Code(.invalidKey)
        /// A login waited ``DefenderConfiguration/admissionTimeout`` for checks in flight on its IP or username
        /// and was not admitted; it was not checked. Answered `503` with `Retry-After: 1`.
        public static let admissionTimeout = Code(.admissionTimeout)
        /// An e-mail could not be sent: the mail server could not be reached, refused it, or took too long.
        public static let mailFailed = Code(.mailFailed)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// A message for the person who has to fix it.
    public let message: String
    /// The setting or environment variable concerned, if any.
    public let setting: String?
    /// The error this one reports, when it wraps one (a Redis error reply, a connection failure, a URL that does
    /// not parse). Not part of equality, which compares ``code``, ``message`` and ``setting``.
    public let underlying: (any Error & Sendable)?

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: what happened and what to fix; never a secret.
    ///   - setting: the setting or environment variable concerned.
    ///   - underlying: the error this one wraps.
    public init(_ code: Code, _ message: String, setting: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.setting = setting
        self.underlying = underlying
    }

    public static func == (lhs: DefenderError, rhs: DefenderError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.setting == rhs.setting
    }

    public var description: String {
        if let setting { return "\(setting): \(message)" }
        return message
    }
}
