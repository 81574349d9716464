import Logging

/// Where the demo "sends" password-reset e-mails: a list, kept for tests and the log.
public actor PasswordResetOutbox {
    /// The usernames a reset link was sent to, in order.
    public private(set) var recipients: [String] = []
    let logger: Logger
    let showsUsernames: Bool

    /// An empty outbox that logs each link "sent" to `logger`, naming the account only with `showsUsernames`
    /// (`DEFENDER_LOG_REDACT=false`): a line per existing account would otherwise list the accounts to whoever
    /// reads the log.
    public init(logger: Logger, showsUsernames: Bool = false) {
        self.logger = logger
        self.showsUsernames = showsUsernames
    }

    /// Records the (pretend) e-mail for `username` when the account exists.
    public func request(for username: String, exists: Bool) {
        guard exists else { return }
        recipients.append(username)
        logger.info("password reset link sent", metadata: showsUsernames ? ["username": .string(username)] : [:])
    }
}
