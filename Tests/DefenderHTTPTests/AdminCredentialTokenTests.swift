import DefenderCore
@testable import DefenderHTTP
import Testing

/// The CSRF token of an administrator signed in with HTTP Basic and no session: bound to the name, the day and the
/// key, so that one administrator's token (or yesterday's, or another deployment's) does not pass for another.
@Suite struct AdminCredentialTokenTests {
    @Test func boundToNameDayAndKey() {
        let token = AdminHandler.credentialToken(for: "root", key: "k1", day: 20_000)
        #expect(token.count == 32 && token == AdminHandler.credentialToken(for: "root", key: "k1", day: 20_000))
        #expect(token != AdminHandler.credentialToken(for: "admin", key: "k1", day: 20_000))
        #expect(token != AdminHandler.credentialToken(for: "root", key: "k1", day: 20_001))
        #expect(token != AdminHandler.credentialToken(for: "root", key: "k2", day: 20_000))
        // The name and the day cannot be shifted into each other.
        #expect(AdminHandler.credentialToken(for: "1root", key: "k1", day: 2) != AdminHandler.credentialToken(for: "root", key: "k1", day: 21))
        #expect(AdminHandler.processKey.count == 64 && AdminHandler.processKey == AdminHandler.processKey)
    }
}
