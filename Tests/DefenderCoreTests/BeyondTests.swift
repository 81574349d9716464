@testable import DefenderCore
import DefenderTesting
import InMemoryTracing
import Logging
import Tracing
import Synchronization
import Testing

/// Allow and deny lists, spraying, cap and jitter, dry run and redacted logs, on the memory store.
@Suite struct BeyondTests {
    let clock = ManualClock()

    var contract: AttemptStoreContract { .memory(clock: clock) }

    func engine(logger: Logger = Logger(label: "test"), _ configure: (inout DefenderConfiguration) -> Void = { _ in }) throws -> Defender {
        var config = DefenderConfiguration()
        configure(&config)
        try config.validate()
        return Defender(configuration: config, store: MemoryAttemptStore(capacity: 10_000, clock: clock), logger: logger)
    }

    @Test func sprayDetection() async throws { try await contract.sprayDetection() }
    @Test func sprayBlocksInEveryMode() async throws { try await contract.sprayBlocksInEveryMode() }
    @Test func aSuccessLiftsOnlyTheBlocksFailuresCaused() async throws { try await contract.aSuccessLiftsOnlyTheBlocksFailuresCaused() }
    @Test func concurrentSprayGetsNoExtraChecks() async throws { try await contract.concurrentSprayGetsNoExtraChecks() }
    @Test func cooloffCap() async throws { try await contract.cooloffCap() }
    @Test func lockoutJitter() async throws { try await contract.lockoutJitter() }

    // MARK: The prefix trie

    @Test func networkSetMatchesIPv4AndIPv6Ranges() throws {
        let set = IPNetworkSet(["203.0.113.0/24", "10.0.0.0/8", "192.0.2.7", "2001:db8:bad::/48", "::ffff:198.51.100.0/120"].map { IPNetwork($0)! })
        for inside in ["203.0.113.0", "203.0.113.255", "10.200.1.2", "192.0.2.7", "2001:db8:bad:ffff::1", "198.51.100.9", "::ffff:203.0.113.5"] {
            #expect(set.contains(IPAddress(inside)!), "\(inside)")
        }
        for outside in ["203.0.114.0", "11.0.0.0", "192.0.2.8", "2001:db8:bae::1", "198.51.101.1", "::1", "2001:db8::"] {
            #expect(!set.contains(IPAddress(outside)!), "\(outside)")
        }
        #expect(set.count == 5)
        #expect(IPNetworkSet([IPNetwork("0.0.0.0/0")!]).contains(IPAddress("8.8.8.8")!))
        #expect(!IPNetworkSet([IPNetwork("0.0.0.0/0")!]).contains(IPAddress("::2")!))  // families never mix
        #expect(IPNetworkSet([IPNetwork("::/0")!]).contains(IPAddress("2001:db8::1")!))
        #expect(!IPNetworkSet().contains(IPAddress("1.2.3.4")!))
    }

    /// The trie agrees with a linear scan on random ranges and addresses, nested ones included.
    @Test func networkSetAgreesWithALinearScan() throws {
        var generator = SystemRandomNumberGenerator()
        var networks: [IPNetwork] = []
        for _ in 0..<2_000 {
            if Bool.random(using: &generator) {
                networks.append(IPNetwork(address: .v4(UInt32.random(in: 0...UInt32.max, using: &generator) | 0x0A00_0000 & 0xFF00_0000), prefixLength: Int.random(in: 8...32, using: &generator)))
            } else {
                networks.append(IPNetwork(address: .v6(UInt128(UInt64.random(in: 0...UInt64.max, using: &generator)) << 64), prefixLength: Int.random(in: 16...128, using: &generator)))
            }
        }
        let set = IPNetworkSet(networks)
        var hits = 0
        for index in 0..<20_000 {
            // Half the probes start from a stored range, so that both answers are common.
            let address: IPAddress
            if index % 2 == 0, let base = networks.randomElement() {
                switch base.address {
                case .v4(let value): address = .v4(value | UInt32.random(in: 0...255))
                case .v6(let value): address = .v6(value | UInt128(UInt16.random(in: 0...UInt16.max)))
                }
            } else {
                address = Bool.random() ? .v4(UInt32.random(in: 0...UInt32.max)) : .v6(UInt128(UInt64.random(in: 0...UInt64.max)) << 64)
            }
            let expected = networks.contains { $0.contains(address) }
            #expect(set.contains(address) == expected, "\(address)")
            if expected { hits += 1 }
        }
        #expect(hits > 1_000 && hits < 19_000)
    }

    @Test func listFileParsing() throws {
        let text = """
            # Tor exit nodes, fetched 2026-11-29
            203.0.113.5
            198.51.100.0/24   # a whole range

            2001:db8:dead::/48
            \t192.0.2.1\r
            """
        let set = try IPNetworkSet.parse(text, source: "test")
        #expect(set.count == 4)
        #expect(set.contains(IPAddress("198.51.100.77")!) && set.contains(IPAddress("192.0.2.1")!))
        let error = #expect(throws: DefenderError.self) { try IPNetworkSet.parse("10.0.0.1\n\n10.0.0.300\n", source: "DEFENDER_IP_DENYLIST_FILE (x)") }
        #expect(error?.message.contains("line 3") == true && error?.message.contains("10.0.0.300") == true)
        #expect(error?.setting == "DEFENDER_IP_DENYLIST_FILE (x)")
    }

    /// The ASCII fast path of username normalisation gives what the Unicode path gives, on random ASCII names
    /// full of spaces, controls and capitals, and on the edges (empty, all space, 255 and 256 bytes).
    @Test func asciiUsernameFastPathAgreesWithTheUnicodePath() {
        func slow(_ name: String) -> String? {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlinesAndControls)
            if trimmed.isEmpty { return nil }
            let lowered = trimmed.lowercased()
            return lowered.utf8.count <= 255 ? lowered : nil  // longer: digested, by both paths
        }
        let alphabet: [UInt8] = Array(0x00...0x7F)
        var samples = ["", " ", "\r\n", " Alice ", "\tBOB\u{7F}", String(repeating: "a", count: 255), String(repeating: "B", count: 256),
                       " " + String(repeating: "c", count: 255) + "\n"]
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...24)
            samples.append(String(decoding: (0..<length).map { _ in Bool.random() ? alphabet.randomElement()! : UInt8.random(in: 0x41...0x5A) }, as: UTF8.self))
        }
        for name in samples {
            let expected = slow(name)
            if let expected {
                #expect(DefenderKey.normalizeUsername(name) == expected, "\(name.debugDescription)")
            } else if name.trimmingCharacters(in: .whitespacesAndNewlinesAndControls).isEmpty {
                #expect(DefenderKey.normalizeUsername(name) == nil, "\(name.debugDescription)")
            } else {
                #expect(DefenderKey.normalizeUsername(name)?.hasPrefix("sha256:") == true, "\(name.debugDescription)")
            }
        }
        #expect(DefenderKey.normalizeASCII("Ünïcode") == nil)
    }

    // MARK: Settings

    @Test func settingsFromEnvironment() throws {
        let config = try DefenderConfiguration.fromEnvironment([
            "DEFENDER_IP_ALLOWLIST": "10.0.0.0/8, 2001:db8::/32", "DEFENDER_IP_DENYLIST": "203.0.113.0/24",
            "DEFENDER_USERNAME_ALLOWLIST": "kiosk", "DEFENDER_USERNAME_DENYLIST": "root,admin",
            "DEFENDER_IP_DENYLIST_FILE": "/etc/tor-exits.txt", "DEFENDER_IP_DENYLIST_RELOAD_INTERVAL": "30",
            "DEFENDER_SPRAY_USERNAME_LIMIT": "10", "DEFENDER_SPRAY_WINDOW": "600", "DEFENDER_LOCKOUT_COOLOFF_MAX": "3600",
            "DEFENDER_LOCKOUT_JITTER": "20", "DEFENDER_RATELIMIT_HEADERS": "yes", "DEFENDER_LOG_REDACT": "false", "DEFENDER_DRY_RUN": "on",
        ])
        #expect(config.ipAllowlist == [IPNetwork("10.0.0.0/8")!, IPNetwork("2001:db8::/32")!])
        #expect(config.ipDenylist == [IPNetwork("203.0.113.0/24")!])
        #expect(config.usernameAllowlist == ["kiosk"] && config.usernameDenylist == ["root", "admin"])
        #expect(config.ipDenylistFile == "/etc/tor-exits.txt" && config.ipDenylistReloadInterval == .seconds(30))
        #expect(config.sprayUsernameLimit == 10 && config.sprayWindow == .seconds(600))
        #expect(config.lockoutCooloffMax == .seconds(3600) && config.lockoutJitter == .seconds(20))
        #expect(config.rateLimitHeaders && !config.redactLogs && config.dryRun)

        let defaults = DefenderConfiguration()
        #expect(defaults.ipAllowlist.isEmpty && defaults.ipDenylist.isEmpty && defaults.ipDenylistFile == nil)
        #expect(defaults.sprayUsernameLimit == 0 && defaults.lockoutCooloffMax == nil && defaults.lockoutJitter == .zero)
        #expect(!defaults.rateLimitHeaders && defaults.redactLogs && !defaults.dryRun)
    }

    @Test(arguments: [
        ("DEFENDER_IP_DENYLIST", "10.0.0.0/33", "DEFENDER_IP_DENYLIST"),
        ("DEFENDER_IP_ALLOWLIST", "example.com", "DEFENDER_IP_ALLOWLIST"),
        ("DEFENDER_IP_DENYLIST_RELOAD_INTERVAL", "0", "DEFENDER_IP_DENYLIST_RELOAD_INTERVAL"),
        ("DEFENDER_SPRAY_USERNAME_LIMIT", "-1", "DEFENDER_SPRAY_USERNAME_LIMIT"),
        ("DEFENDER_SPRAY_WINDOW", "0", "DEFENDER_SPRAY_WINDOW"),
        ("DEFENDER_LOCKOUT_COOLOFF_MAX", "0", "DEFENDER_LOCKOUT_COOLOFF_MAX"),
        ("DEFENDER_LOCKOUT_JITTER", "1.5", "DEFENDER_LOCKOUT_JITTER"),
        ("DEFENDER_LOCKOUT_JITTER", "90000", "DEFENDER_LOCKOUT_JITTER"),
        ("DEFENDER_RATELIMIT_HEADERS", "maybe", "DEFENDER_RATELIMIT_HEADERS"),
        ("DEFENDER_DRY_RUN", "2", "DEFENDER_DRY_RUN"),
        ("DEFENDER_LOG_REDACT", "nope", "DEFENDER_LOG_REDACT"),
    ])
    func badSettingsAreRefused(name: String, value: String, setting: String) throws {
        let error = #expect(throws: DefenderError.self) { try DefenderConfiguration.fromEnvironment([name: value]) }
        #expect(error?.setting == setting, "\(name)=\(value): \(String(describing: error))")
    }

    // MARK: Lists in the engine

    @Test func denyAndAllowLists() async throws {
        let engine = try engine {
            $0.ipDenylist = ["203.0.113.0/24", "2001:db8:bad::/48"].map { IPNetwork($0)! }
            $0.ipAllowlist = ["198.51.100.0/24", "203.0.113.7/32"].map { IPNetwork($0)! }
            $0.usernameDenylist = ["Root"]
            $0.usernameAllowlist = ["kiosk"]
        }
        func check(_ ip: String, _ user: String) async throws -> Defender.Check {
            try await engine.check(ip: engine.resolver.client(IPAddress(ip)!), username: user)
        }
        // Denied: before any store step, permanent, deny wins over allow.
        for (ip, user) in [("203.0.113.9", "alice"), ("203.0.113.7", "alice"), ("2001:db8:bad:1::5", "alice"), ("192.0.2.1", " ROOT "), ("198.51.100.3", "root")] {
            guard case .locked(let lockout) = try await check(ip, user) else { Issue.record("\(ip) \(user) not denied"); continue }
            #expect(lockout.reason == .denylisted && lockout.isPermanent)
        }
        #expect(try await engine.lockout(ip: engine.resolver.client(IPAddress("203.0.113.1")!), username: "x")?.reason == .denylisted)
        // Allowed: never counted or locked, however many failures.
        for _ in 0..<10 { #expect(try await engine.login(ip: "198.51.100.3", username: "alice", correctPassword: false) == .failure) }
        for _ in 0..<10 { #expect(try await engine.login(ip: "192.0.2.2", username: "KIOSK", correctPassword: false) == .failure) }
        #expect(try await engine.store.state(of: engine.ipKey("198.51.100.3")).failures == 0)
        #expect(try await engine.store.state(of: engine.usernameKey("alice")).failures == 0)
        #expect(try await engine.store.state(of: engine.ipKey("192.0.2.2")).failures == 0)
        #expect(try await engine.lockout(ip: engine.resolver.client(IPAddress("198.51.100.3")!), username: "alice") == nil)
        // Unlisted clients follow the usual rules.
        let results = try await engine.run((1...5).map { _ in LoginStep("192.0.2.3", "bob", expect: .failure) })
        #expect(results == [.failure, .failure, .failure, .lockedOut, .refused])
    }

    @Test func fileDenylistCanBeSwapped() async throws {
        let engine = try engine()
        let client = engine.resolver.client(IPAddress("192.0.2.44")!)
        #expect(try await engine.lockout(ip: client, username: nil) == nil)
        engine.accessLists.replaceFileDenylist(try IPNetworkSet.parse("192.0.2.0/24\n", source: "test"))
        #expect(engine.accessLists.fileDenylistCount == 1)
        #expect(try await engine.lockout(ip: client, username: nil)?.reason == .denylisted)
        engine.accessLists.replaceFileDenylist(IPNetworkSet())
        #expect(try await engine.lockout(ip: client, username: nil) == nil)
    }

    // MARK: Dry run and logs

    @Test func dryRunCountsButNeverRefuses() async throws {
        let logs = LogCapture()
        let engine = try engine(logger: logs.logger) {
            $0.dryRun = true
            $0.ipDenylist = [IPNetwork("203.0.113.0/24")!]
        }
        let results = try await engine.run((1...8).map { _ in LoginStep("192.0.2.10", "carol", expect: .failure) })
        #expect(results == Array(repeating: .failure, count: 8))
        #expect(try await engine.login(ip: "192.0.2.10", username: "carol", correctPassword: true) == .success)
        // The store saw everything: the block is there for the admin to see.
        #expect(try await engine.store.state(of: engine.ipKey("192.0.2.10")).block != nil)
        #expect(logs.messages.contains { $0.contains("dry run: this login would be locked out") })
        // Deny lists still refuse.
        #expect(try await engine.login(ip: "203.0.113.1", username: "carol", correctPassword: true) == .refused)
    }

    @Test func spansForEveryStep() async throws {
        let tracer = InMemoryTracer()
        var config = DefenderConfiguration()
        config.ipDenylist = [IPNetwork("203.0.113.0/24")!]
        let engine = Defender(configuration: config, store: MemoryAttemptStore(capacity: 100, clock: clock), tracer: tracer)
        _ = try await engine.run((1...5).map { _ in LoginStep("192.0.2.30", "frank", expect: .failure) })
        #expect(try await engine.login(ip: "192.0.2.31", username: "grace", correctPassword: true) == .success)
        #expect(try await engine.login(ip: "203.0.113.1", username: "grace", correctPassword: true) == .refused)
        let spans = tracer.finishedSpans
        #expect(spans.map(\.operationName) == [
            "defender.check", "defender.record_failure", "defender.check", "defender.record_failure", "defender.check",
            "defender.record_failure", "defender.check", "defender.record_failure", "defender.check",
            "defender.check", "defender.record_success", "defender.check",
        ])
        func text(_ value: SpanAttribute?) -> String {
            switch value {
            case .string(let text)?: return text
            case .bool(let flag)?: return String(flag)
            default: return "?"
            }
        }
        let outcomes = spans.filter { $0.operationName == "defender.check" }.map { text($0.attributes["defender.outcome"]?.toSpanAttribute()) }
        #expect(outcomes == ["admitted", "admitted", "admitted", "admitted", "locked", "admitted", "denied"], "\(outcomes)")
        let lockedOut = spans.filter { $0.operationName == "defender.record_failure" }.map { text($0.attributes["defender.locked_out"]?.toSpanAttribute()) }
        #expect(lockedOut == ["false", "false", "false", "true"], "\(lockedOut)")
        // The default (no tracer bootstrapped) makes no spans at all.
        #expect(Defender(configuration: config).tracer == nil)
    }

    @Test func logsAreRedactedByDefault() async throws {
        let redacted = LogCapture()
        let engine = try engine(logger: redacted.logger)
        _ = try await engine.run((1...4).map { _ in LoginStep("192.0.2.20", "dave", expect: .failure) })
        #expect(redacted.messages.contains { $0.contains("blocked after failed logins") && $0.contains("********") })
        #expect(!redacted.messages.joined().contains("192.0.2.20") && !redacted.messages.joined().contains("dave"))

        let plain = LogCapture()
        let open = try self.engine(logger: plain.logger) { $0.redactLogs = false }
        _ = try await open.run((1...4).map { _ in LoginStep("192.0.2.21", "erin", expect: .failure) })
        #expect(plain.messages.joined().contains("192.0.2.21") && plain.messages.joined().contains("erin"))
    }
}
