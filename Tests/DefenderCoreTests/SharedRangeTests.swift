@testable import DefenderCore
import DefenderTesting
import Testing

/// Shared ranges (`DEFENDER_SHARED_IP_RANGES`) on the memory store; `RedisStoreTests` runs the same contract
/// against redis-server.
@Suite struct SharedRangeTests {
    let clock = ManualClock()

    var contract: AttemptStoreContract { .memory(clock: clock) }

    @Test func anAttackerBehindASharedAddressLocksNoOneElse() async throws { try await contract.anAttackerBehindASharedAddressLocksNoOneElse() }
    @Test func guessingOneUsernameThereLocksTheUsernameAndThePair() async throws {
        try await contract.guessingOneUsernameThereLocksTheUsernameAndThePair()
    }
    @Test func anOperatorsBlockOfASharedAddressStillRefusesIt() async throws { try await contract.anOperatorsBlockOfASharedAddressStillRefusesIt() }
    @Test func sprayingFromASharedAddressBlocksItAtItsOwnLimit() async throws {
        try await contract.sprayingFromASharedAddressBlocksItAtItsOwnLimit()
    }
    @Test func aSuccessClearsItsPair() async throws { try await contract.aSuccessClearsItsPair() }
    @Test func concurrentGuessesOnAPairGetNoExtraChecks() async throws { try await contract.concurrentGuessesOnAPairGetNoExtraChecks() }

    /// The built-in range is on by default and can be turned off; configured ranges (IPv4 and IPv6) add to it; a
    /// login without a username from a shared address counts the address (there is no pair to count).
    @Test func whichClientsArePairs() throws {
        func ipKind(_ config: DefenderConfiguration, _ ip: String, _ username: String? = "u") -> DefenderKey.Kind {
            let engine = Defender(configuration: config)
            return engine.attempt(ip: engine.resolver.client(IPAddress(ip)!), username: username).ipKey.kind
        }
        var config = DefenderConfiguration()
        #expect(ipKind(config, "100.64.0.1") == .pair && ipKind(config, "100.127.255.254") == .pair)
        #expect(ipKind(config, "100.128.0.1") == .ip && ipKind(config, "10.0.0.1") == .ip)
        #expect(ipKind(config, "100.64.0.1", nil) == .ip && ipKind(config, "100.64.0.1", "  ") == .ip)
        config.sharedIPRanges = [IPNetwork("192.0.2.0/24")!, IPNetwork("2001:db8:aa::/48")!]
        #expect(ipKind(config, "192.0.2.200") == .pair && ipKind(config, "2001:db8:aa::1") == .pair && ipKind(config, "2001:db8:ab::1") == .ip)
        config.sharedIPRangesBuiltIn = false
        #expect(ipKind(config, "100.64.0.1") == .ip && ipKind(config, "192.0.2.200") == .pair)
    }

    /// A pair key's value is the address and the normalised username; its address is recovered whatever the
    /// username holds (a `|` included), and an IPv6 client's pair uses its group.
    @Test func pairKeys() throws {
        let engine = Defender(configuration: { var c = DefenderConfiguration(); c.sharedIPRanges = [IPNetwork("2001:db8::/32")!]; return c }())
        let v6 = engine.attempt(ip: engine.resolver.client(IPAddress("2001:db8:1:2::7")!), username: " Eve|Admin ")
        #expect(v6.ipKey == DefenderKey(kind: .pair, normalizedValue: "2001:db8:1:2::/64|eve|admin"))
        #expect(v6.ipKey.pairAddress == DefenderKey(kind: .ip, normalizedValue: "2001:db8:1:2::/64"))
        #expect(DefenderKey(kind: .ip, normalizedValue: "10.0.0.1").pairAddress == nil)
        // A username that starts with a combining mark joins the `|` into one character: the split is by bytes.
        let marked = engine.attempt(ip: engine.resolver.client(IPAddress("2001:db8::9")!), username: "\u{301}eve|x")
        #expect(marked.ipKey.pairAddress?.value == "2001:db8::/64" && marked.ipKey.pairUsername == "\u{301}eve|x")
        #expect(DefenderEvent(key: marked.ipKey, blocked: true) == .pairBlocked(address: "2001:db8::/64", username: "\u{301}eve|x"))
        let policy = LockoutPolicy(DefenderConfiguration())
        #expect(policy.limit(of: .pair) == policy.ipLimit && policy.longWindowLimit(of: .pair) == policy.longWindowIPLimit)
    }

    @Test func settingsFromEnvironment() throws {
        let config = try DefenderConfiguration.fromEnvironment([
            "DEFENDER_SHARED_IP_RANGES": "192.0.2.0/24, 2001:db8::/32", "DEFENDER_SHARED_IP_RANGES_FILE": "/etc/defender/shared.txt",
            "DEFENDER_SHARED_IP_RANGES_BUILTIN": "false", "DEFENDER_SHARED_SPRAY_USERNAME_LIMIT": "50",
        ])
        #expect(config.sharedIPRanges == [IPNetwork("192.0.2.0/24")!, IPNetwork("2001:db8::/32")!])
        #expect(config.sharedIPRangesFile == "/etc/defender/shared.txt" && !config.sharedIPRangesBuiltIn && config.sharedSprayUsernameLimit == 50)
        #expect(config.effectiveSharedIPRanges == config.sharedIPRanges)
        let defaults = DefenderConfiguration()
        #expect(defaults.effectiveSharedIPRanges == [IPNetwork("100.64.0.0/10")!] && defaults.sharedSprayUsernameLimit == 100)
    }

    @Test(arguments: [
        ("DEFENDER_SHARED_IP_RANGES", "100.64.0.0/33"), ("DEFENDER_SHARED_IP_RANGES", "carrier"),
        ("DEFENDER_SHARED_IP_RANGES_BUILTIN", "maybe"), ("DEFENDER_SHARED_SPRAY_USERNAME_LIMIT", "-1"),
    ])
    func badSettingsAreRefused(name: String, value: String) throws {
        #expect { try DefenderConfiguration.fromEnvironment([name: value]) } throws: { error in
            (error as? DefenderError)?.description.contains(name) == true
        }
    }

    actor Collector {
        var events: [String] = []
        func add(_ event: DefenderEvent) { events.append(event.description(redacted: false)) }
    }

    /// Events of their own: `pairBlocked` for a pair (and the username beside it), `pairUnblocked` when an operator
    /// lifts it, `ipBlocked` for the shared address that sprayed. (The metric is `DemoSharedRangeTests`'.)
    @Test func pairEvents() async throws {
        let bus = DefenderEventBus()
        let collector = Collector()
        bus.on { await collector.add($0) }
        let runner = Task { await bus.run() }
        var config = DefenderConfiguration()
        config.sharedSprayUsernameLimit = 3
        config.successReset = .own
        let engine = Defender(configuration: config, store: MemoryAttemptStore(clock: clock), events: bus)
        for _ in 0..<4 { _ = try await engine.login(ip: "100.64.9.1", username: "target", correctPassword: false) }
        try await engine.unblock(username: "target")
        // The pair still refuses (a success cannot reach it); the operator lifts it by address and username.
        #expect(try await engine.login(ip: "100.64.9.1", username: "target", correctPassword: true) == .refused)
        #expect(try await engine.unblock(.pair(address: try engine.ipKey("100.64.9.1"), username: try engine.usernameKey("target"))))
        #expect(try await engine.login(ip: "100.64.9.1", username: "target", correctPassword: true) == .success)
        for index in 0..<3 { _ = try await engine.login(ip: "100.64.9.1", username: "other\(index)", correctPassword: false) }
        bus.finish()
        await runner.value
        #expect(await collector.events == [
            "pairBlocked 100.64.9.1|target", "usernameBlocked target", "usernameUnblocked target", "pairUnblocked 100.64.9.1|target",
            "ipBlocked 100.64.9.1",
        ])
    }
}
