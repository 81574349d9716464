import DefenderCore
import DefenderTesting
import Testing

/// A username is the client's text: one that holds a line break, locked out, must not write a second log line (a
/// forged "unblocked" entry for an operator to read), whatever the log handler does with metadata.
@Suite struct LogInjectionTests {
    @Test func aUsernameCannotForgeALogLine() async throws {
        let logs = LogCapture()
        var configuration = DefenderConfiguration()
        configuration.redactLogs = false  // on by default: then no username is logged at all
        let engine = Defender(configuration: configuration, store: MemoryAttemptStore(), logger: logs.logger)
        let forged = "x\n2026-12-07T00:00:00+0000 notice defender: key=admin [DefenderCore] unblocked\r\u{0}\u{85}"
        for bot in 1...4 { _ = try await engine.login(ip: "198.51.100.\(bot)", username: forged, correctPassword: false) }
        let lines = logs.messages.filter { $0.contains("2026-12-07") }
        #expect(!lines.isEmpty, "the username was not logged at all: \(logs.messages.joined(separator: " | "))")
        for line in lines {
            #expect(!line.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(line.debugDescription)")
            #expect(line.contains("x\\u{a}2026"), "\(line.debugDescription)")
        }
    }
}
