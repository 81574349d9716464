/// One login between its check and its outcome.
public struct LoginAttempt: Sendable, Hashable {
    /// The client.
    public let ip: ClientAddress
    /// The username as submitted (for the audit log), cut to 255 bytes (UTF-8, on a scalar).
    public let submittedUsername: String?
    /// The IP dimension's key: the client's address key, or, for a client in a shared range with a username, the
    /// pair of the two (``Defender/attempt(ip:username:context:)`` decides).
    public internal(set) var ipKey: DefenderKey
    /// The username key; `nil` for an empty username, which is never counted.
    public let usernameKey: DefenderKey?
    /// The in-flight slots this attempt holds, from ``Defender/check(ip:username:context:)``; `nil` when it holds none.
    public internal(set) var reservation: Reservation?
    /// The request's details, for the audit log.
    public var context: AttemptContext?
    /// Whether the allow list exempts it: its outcome is logged, never counted.
    public internal(set) var isExempt = false
    /// For a trusted client (a valid device cookie for this username, its device not locked), the device: the
    /// username dimension of this attempt, counted and checked instead of ``usernameKey``. `nil` otherwise.
    public internal(set) var deviceKey: DefenderKey?
    /// For a trusted client, whether its username was locked when the device was trusted (read then, in the one
    /// extra read a valid cookie costs): a success then got in through the lockout, which is counted and announced
    /// without another read after the password check.
    var usernameLockedWhenTrusted = false

    /// The key counted in the username dimension: the device of a trusted client, else the username.
    public var countedUsernameKey: DefenderKey? { deviceKey ?? usernameKey }

    /// Creates an attempt, normalising the username; its IP dimension is the address. Prefer
    /// ``Defender/attempt(ip:username:context:)``, which applies the shared ranges.
    public init(ip: ClientAddress, submittedUsername: String?, context: AttemptContext? = nil) {
        self.ip = ip
        self.context = context
        self.submittedUsername = submittedUsername.map { $0.truncated(toUTF8Bytes: 255) }
        self.ipKey = .ip(ip)
        self.usernameKey = submittedUsername.flatMap(DefenderKey.username)
    }
}
