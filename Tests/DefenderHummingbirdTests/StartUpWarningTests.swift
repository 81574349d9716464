import DefenderHummingbird
import DefenderTesting
import Testing

/// Settings that would do nothing say so once, at start-up.
@Suite struct StartUpWarningTests {
    /// `DEFENDER_STORE_ACCESS_ATTEMPTS` is on by default: with no audit log given it writes nowhere, and one warning
    /// says so and how to fix it; with a log, or with the setting off, nothing is said.
    @Test func auditLogSettingWithoutALogWarnsOnce() throws {
        func warnings(_ environment: [String: String], accessLog: (any AccessAttemptLog)? = nil) throws -> [String] {
            let logs = LogCapture()
            _ = try HummingbirdDefender(configuration: .fromEnvironment(environment), accessLog: accessLog, logger: logs.logger)
            return logs.messages.filter { $0.hasPrefix("[warning]") }
        }
        let unset = try warnings([:])
        #expect(unset.count == 1 && unset[0].contains("DEFENDER_STORE_ACCESS_ATTEMPTS") && unset[0].contains("FluentAccessLog"), "\(unset)")
        #expect(try warnings(["DEFENDER_STORE_ACCESS_ATTEMPTS": "false"]).isEmpty)
        #expect(try warnings([:], accessLog: DiscardingLog()).isEmpty)
    }

    /// An audit log that keeps nothing: enough to say one is configured.
    struct DiscardingLog: AccessAttemptLog {
        func record(_ attempt: AccessAttemptRecord) async {}
    }
}
