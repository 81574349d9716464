import Logging

/// Where the demo "sends" password-reset e-mails: a list, kept for tests and the log.
public actor PasswordResetOutbox {
    /// The usernames a reset link was sent to, in order.
    public private(set) var recipients: [String] = []
    let logger: Logger

    /// An empty outbox that logs each link "sent" to `logger`.
    public init(logger: Logger) { self.logger = logger }

    /// Records the (pretend) e-mail for `username` when the account exists.
    public func request(for username: String, exists: Bool) {
        guard exists else { return }
        recipients.append(username)
        logger.info("password reset link sent", metadata: ["username": .string(username)])
    }
}
