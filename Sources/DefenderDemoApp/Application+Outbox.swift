import DefenderDemoSupport
import Vapor

extension Application {
    /// The demo's password-reset outbox (set once by `DemoApp.configure`, before any request can read it).
    public var passwordResetOutbox: PasswordResetOutbox {
        if let outbox = storage[OutboxKey.self] { return outbox }
        let outbox = PasswordResetOutbox(logger: logger)
        storage[OutboxKey.self] = outbox
        return outbox
    }

    struct OutboxKey: StorageKey { typealias Value = PasswordResetOutbox }
}
