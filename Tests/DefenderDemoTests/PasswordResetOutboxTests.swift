import DefenderDemoSupport
import DefenderTesting
import Testing

/// The demo's password-reset log line names the account only when logs are not redacted: a line per existing
/// account would list the accounts to whoever reads the log.
@Suite struct PasswordResetOutboxTests {
    @Test func theLogNamesNoAccountUnlessAsked() async {
        let redacted = LogCapture()
        let outbox = PasswordResetOutbox(logger: redacted.logger)
        await outbox.request(for: "alice", exists: true)
        await outbox.request(for: "mallory", exists: false)
        #expect(redacted.messages.count == 1 && !redacted.messages.joined().contains("alice"), "\(redacted.messages)")
        #expect(await outbox.recipients == ["alice"])
        let shown = LogCapture()
        await PasswordResetOutbox(logger: shown.logger, showsUsernames: true).request(for: "alice", exists: true)
        #expect(shown.messages.joined().contains("alice"), "\(shown.messages)")
    }
}
