import Vapor

/// Where the demo "sends" password-reset e-mails: a list, kept for tests and the log.
actor PasswordResetOutbox {
    private(set) var recipients: [String] = []
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func request(for username: String, exists: Bool) {
        guard exists else { return }
        recipients.append(username)
        logger.info("password reset link sent", metadata: ["username": .string(username)])
    }
}

extension Application {
    /// The demo's password-reset outbox.
    public var passwordResetOutbox: PasswordResetOutboxHandle { PasswordResetOutboxHandle(outbox: outbox) }

    // Set once by `DemoApp.configure`, before any request can read it.
    var outbox: PasswordResetOutbox { storage[OutboxKey.self] ?? PasswordResetOutbox(logger: logger) }

    struct OutboxKey: StorageKey { typealias Value = PasswordResetOutbox }
}

/// Reads and feeds the demo's password-reset outbox.
public struct PasswordResetOutboxHandle: Sendable {
    let outbox: PasswordResetOutbox

    /// The usernames a reset link was sent to, in order.
    public var recipients: [String] { get async { await outbox.recipients } }

    func request(for username: String, exists: Bool) async { await outbox.request(for: username, exists: exists) }
}
