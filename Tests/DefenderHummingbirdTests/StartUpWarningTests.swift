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

    /// A `DEFENDER_*` name that is not a setting (a typo leaves the real setting at its default) is warned about
    /// once, by name, with the setting it most likely meant; its value (perhaps a secret) is never logged.
    @Test func misspeltSettingsAreNamedWithTheLikelyOne() throws {
        let environment = [
            "DEFENDER_STORE_ACCESS_ATTEMPTS": "false", "DEFENDER_LOGIN_FAILURE_LIMT": "10", "DEFENDER_IP_WHITELIST": "10.0.0.0/8",
            "DEFENDER_IP_FAILURE_LIMIT": "5", "DEFENDER_SECRETKEY": "hunter2-very-secret-value", "DEFENDER_SOMETHING_ELSE": "x",
            "DEFENDER_TEST_REDIS_URL": "redis://127.0.0.1:1", "DEFENDER_BENCH_ROUNDS": "5",
        ]
        let configuration = try DefenderConfiguration.fromEnvironment(environment)
        #expect(configuration.unrecognizedEnvironmentVariables == [
            "DEFENDER_IP_FAILURE_LIMIT", "DEFENDER_IP_WHITELIST", "DEFENDER_LOGIN_FAILURE_LIMT", "DEFENDER_SECRETKEY", "DEFENDER_SOMETHING_ELSE",
        ])
        #expect(configuration == (try DefenderConfiguration.fromEnvironment(["DEFENDER_STORE_ACCESS_ATTEMPTS": "false"])), "names are not settings")
        let logs = LogCapture()
        _ = try HummingbirdDefender(configuration: configuration, logger: logs.logger)
        let warnings = logs.messages.filter { $0.hasPrefix("[warning]") }
        #expect(warnings.count == 5, "\(warnings)")
        let expected = [
            ("DEFENDER_LOGIN_FAILURE_LIMT", "did you mean DEFENDER_LOGIN_FAILURE_LIMIT?"), ("DEFENDER_IP_WHITELIST", "did you mean DEFENDER_IP_ALLOWLIST?"),
            ("DEFENDER_IP_FAILURE_LIMIT", "did you mean DEFENDER_LOGIN_FAILURE_LIMIT_IP?"), ("DEFENDER_SECRETKEY", "did you mean DEFENDER_SECRET_KEY?"),
            ("DEFENDER_SOMETHING_ELSE", "environmentVariables lists the settings"),
        ]
        for (name, hint) in expected {
            #expect(warnings.contains { $0.contains(name + " is set but is not a Defender setting") && $0.contains(hint) }, "\(name): \(warnings)")
        }
        #expect(!warnings.contains { $0.contains("hunter2") })
        // Every setting suggests itself, and so does its name in any case.
        for name in DefenderConfiguration.environmentVariables {
            #expect(DefenderConfiguration.suggestion(for: name) == name)
            #expect(DefenderConfiguration.suggestion(for: name.lowercased()) == name)
        }
    }

    /// Valid settings that turn protection off, or let memory grow, are named once at start-up (never their values);
    /// the defaults, and each setting alone at a sensible value, say nothing.
    @Test(arguments: [
        (["DEFENDER_DRY_RUN": "true"], "DEFENDER_DRY_RUN"),
        (["DEFENDER_DISABLE_IP_LOCKOUT": "true", "DEFENDER_DISABLE_USERNAME_LOCKOUT": "true"], "DEFENDER_DISABLE_IP_LOCKOUT, DEFENDER_DISABLE_USERNAME_LOCKOUT"),
        (["DEFENDER_BEHIND_REVERSE_PROXY": "true", "DEFENDER_TRUSTED_PROXIES": ","], "DEFENDER_TRUSTED_PROXIES"),
        (["DEFENDER_COOLOFF_TIME": "0"], "DEFENDER_ATTEMPT_COOLOFF_TIME"),
        (["DEFENDER_ATTEMPT_COOLOFF_TIME": "0"], "DEFENDER_ATTEMPT_COOLOFF_TIME"),
        (["DEFENDER_MOCK_REDIS": "true", "DEFENDER_STORE": "redis"], "DEFENDER_MOCK_REDIS"),
        (["DEFENDER_ACCESS_ATTEMPT_EXPIRATION": "0"], "DEFENDER_ACCESS_ATTEMPT_EXPIRATION"),
        (["DEFENDER_IPV6_PREFIX_LENGTH": "0"], "DEFENDER_IPV6_PREFIX_LENGTH"),
        (["DEFENDER_IPV6_PREFIX_LENGTH": "47"], "DEFENDER_IPV6_PREFIX_LENGTH"),
        (["DEFENDER_MEMORY_MAX_ENTRIES": "1"], "DEFENDER_MEMORY_MAX_ENTRIES"),
        (["DEFENDER_MEMORY_MAX_ENTRIES": "999"], "DEFENDER_MEMORY_MAX_ENTRIES"),
    ])
    func settingsThatTurnProtectionOffAreNamed(_ environment: [String: String], _ setting: String) throws {
        let logs = LogCapture()
        _ = try HummingbirdDefender(
            configuration: .fromEnvironment(environment.merging(["DEFENDER_STORE_ACCESS_ATTEMPTS": "false"]) { $1 }), logger: logs.logger)
        let warnings = logs.messages.filter { $0.hasPrefix("[warning]") }
        #expect(warnings.count == 1 && warnings[0].contains(setting), "\(warnings)")
        for value in environment.values where value.count > 1 { #expect(!warnings[0].contains("=\(value)")) }
        #expect(try DefenderConfiguration.fromEnvironment(["DEFENDER_STORE_ACCESS_ATTEMPTS": "false"]).warnings.isEmpty)
        // The edges that are still sensible.
        let sensible = [
            "DEFENDER_IPV6_PREFIX_LENGTH": "48", "DEFENDER_MEMORY_MAX_ENTRIES": "1000", "DEFENDER_STORE_ACCESS_ATTEMPTS": "false",
        ]
        #expect(try DefenderConfiguration.fromEnvironment(sensible).warnings.isEmpty)
    }

    /// An audit log that keeps nothing: enough to say one is configured.
    struct DiscardingLog: AccessAttemptLog {
        func record(_ attempt: AccessAttemptRecord) async {}
    }
}
