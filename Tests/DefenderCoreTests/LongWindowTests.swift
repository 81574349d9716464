@testable import DefenderCore
import DefenderTesting
import Testing

/// The long window (`DEFENDER_LONG_WINDOW`, `DEFENDER_LONG_WINDOW_FAILURE_LIMIT`) on the memory store, driven by a
/// manual clock; `RedisStoreTests` runs the same contract against redis-server.
@Suite struct LongWindowTests {
    let clock = ManualClock()

    var contract: AttemptStoreContract { .memory(clock: clock) }

    @Test func slowGuessingLocksAtTheLongWindowLimit() async throws { try await contract.slowGuessingLocksAtTheLongWindowLimit() }
    @Test func slowGuessingFromManyAddressesLocksTheUsername() async throws { try await contract.slowGuessingFromManyAddressesLocksTheUsername() }
    @Test func aForgetfulUserIsNeverLockedByTheLongWindow() async throws { try await contract.aForgetfulUserIsNeverLockedByTheLongWindow() }
    @Test func concurrentGuessesGetNoExtraChecksFromTheLongWindow() async throws {
        try await contract.concurrentGuessesGetNoExtraChecksFromTheLongWindow()
    }

    /// The defaults against the slow attacker of the README's security model: three guesses every five minutes
    /// (the attempt cool-off) from one address. The 31st failure locks, a little over 50 minutes in, and every
    /// failure after a block lifts locks again at the next escalation step, while the window holds 30.
    @Test func theDefaultsLockTheSlowAttackerWithinAnHour() async throws {
        let engine = Defender(configuration: DefenderConfiguration(), store: MemoryAttemptStore(clock: clock))
        let start = clock.now()
        var failures = 0
        var lockedAt: Duration?
        while lockedAt == nil, failures < 100 {
            for _ in 0..<3 where lockedAt == nil {
                failures += 1
                if try await engine.login(ip: "203.0.113.50", username: "victim", correctPassword: false) == .lockedOut {
                    lockedAt = clock.now() - start
                }
            }
            clock.advance(by: .seconds(301))
        }
        #expect(failures == 31)
        #expect(lockedAt.map { $0 < .seconds(3600) } == true, "\(String(describing: lockedAt))")
    }

    /// The window slides: failures older than it no longer count, and a key's memory holds the newest limit + 1.
    @Test func failuresOlderThanTheWindowNoLongerCount() async throws {
        let store = MemoryAttemptStore(clock: clock)
        var config = DefenderConfiguration()
        config.attemptCooloffTime = .seconds(1)
        config.longWindow = .seconds(100)
        config.longWindowFailureLimit = 4
        let engine = Defender(configuration: config, store: store)
        for _ in 0..<4 {
            #expect(try await engine.login(ip: "10.30.0.1", username: "sliding", correctPassword: false) == .failure)
            clock.advance(by: .seconds(30))
        }
        // The first failure (120 s ago) has left the window: this is the 4th within it, not the 5th.
        #expect(try await engine.login(ip: "10.30.0.1", username: "sliding", correctPassword: false) == .failure)
        clock.advance(by: .seconds(2))
        #expect(try await engine.login(ip: "10.30.0.1", username: "sliding", correctPassword: false) == .lockedOut)
    }

    /// A full memory store makes room with fresh keys (one failure each) first: an attacker who floods it with new
    /// addresses and usernames cannot wash out the window of the account he guesses slowly. (Oldest-first
    /// eviction once dropped that window, whose counter had lapsed, before any of the flood.)
    @Test(arguments: [1, 2])
    func aFloodOfFreshKeysCannotWashOutASlowAttack(failuresPerFloodKey: Int) async throws {
        let store = MemoryAttemptStore(capacity: 200, clock: clock)
        var config = DefenderConfiguration()
        config.attemptCooloffTime = .seconds(1)
        config.longWindow = .seconds(10_000)
        config.longWindowFailureLimit = 6
        let engine = Defender(configuration: config, store: store)
        func slowRound() async throws -> [LoginResult] {
            var results: [LoginResult] = []
            for _ in 0..<2 { results.append(try await engine.login(ip: "10.31.0.1", username: "target", correctPassword: false)) }
            clock.advance(by: .seconds(2))
            return results
        }
        #expect(try await slowRound() + slowRound() == Array(repeating: .failure, count: 4))
        for index in 0..<2_000 {
            for _ in 0..<failuresPerFloodKey {
                _ = try await engine.login(ip: "10.32.\(index / 250).\(index % 250)", username: "flood\(index)", correctPassword: false)
            }
        }
        #expect(store.count <= 200)
        #expect(try await slowRound() == [.failure, .failure])
        #expect(try await engine.login(ip: "10.31.0.1", username: "target", correctPassword: false) == .lockedOut)
    }

    actor Causes {
        var seen: [String] = []
        func add(_ event: DefenderEvent, _ cause: DefenderEvent.Cause?) { seen.append("\(event.name) \(cause?.rawValue ?? "-")") }
    }

    /// A detailed event handler tells a slow attack from a fast one: the long window's blocks come with the cause
    /// `long_window`, a counter's with `counter`, an operator's with `manual`, unblocks with none.
    @Test func eventsSayWhyAKeyWasBlocked() async throws {
        let bus = DefenderEventBus()
        let causes = Causes()
        bus.on(detailed: { await causes.add($0, $1) })
        let runner = Task { await bus.run() }
        var config = DefenderConfiguration()
        config.attemptCooloffTime = .seconds(1)
        config.longWindow = .seconds(1_000)
        config.longWindowFailureLimit = 4
        let engine = Defender(configuration: config, store: MemoryAttemptStore(clock: clock), events: bus)
        for _ in 0..<2 {
            for _ in 0..<2 { _ = try await engine.login(ip: "10.34.0.1", username: "slow", correctPassword: false) }
            clock.advance(by: .seconds(2))
        }
        _ = try await engine.login(ip: "10.34.0.2", username: "slow", correctPassword: false)  // the username's 5th
        for _ in 0..<4 { _ = try await engine.login(ip: "10.34.0.3", username: "fast", correctPassword: false) }
        try await engine.block(ip: "10.34.0.9")
        try await engine.unblock(ip: "10.34.0.9")
        bus.finish()
        await runner.value
        #expect(await causes.seen == [
            "usernameBlocked long_window", "ipBlocked counter", "usernameBlocked counter", "ipBlocked manual", "ipUnblocked -",
        ])
    }

    /// The limit never locks sooner than a dimension's own counter would: raised counter limits raise it too.
    @Test func theLimitIsNeverBelowTheCounterLimits() throws {
        var config = DefenderConfiguration()
        config.loginFailureLimitIP = 100
        config.longWindowFailureLimit = 30
        let policy = LockoutPolicy(config)
        #expect(policy.longWindowIPLimit == 100 && policy.longWindowUsernameLimit == 30)
        config.longWindowFailureLimit = 0
        #expect(LockoutPolicy(config).longWindowIPLimit == 0 && LockoutPolicy(config).longWindowUsernameLimit == 0)
        // A counter allowing more than a window may hold turns that dimension's window off: every window is bounded.
        config.longWindowFailureLimit = 30
        config.loginFailureLimitIP = DefenderConfiguration.maximumLongWindowLimit + 1
        #expect(LockoutPolicy(config).longWindowIPLimit == 0 && LockoutPolicy(config).longWindowUsernameLimit == 30)
    }

    @Test func settingsFromEnvironment() throws {
        let config = try DefenderConfiguration.fromEnvironment(["DEFENDER_LONG_WINDOW": "3600", "DEFENDER_LONG_WINDOW_FAILURE_LIMIT": "12"])
        #expect(config.longWindow == .seconds(3600) && config.longWindowFailureLimit == 12)
        let defaults = DefenderConfiguration()
        #expect(defaults.longWindow == .seconds(86400) && defaults.longWindowFailureLimit == 30)
    }

    @Test(arguments: [
        ("DEFENDER_LONG_WINDOW", "0"), ("DEFENDER_LONG_WINDOW", "abc"), ("DEFENDER_LONG_WINDOW", "40000000"),
        ("DEFENDER_LONG_WINDOW_FAILURE_LIMIT", "-1"), ("DEFENDER_LONG_WINDOW_FAILURE_LIMIT", "10001"),
        ("DEFENDER_LONG_WINDOW_FAILURE_LIMIT", "many"),
    ])
    func badSettingsAreRefused(name: String, value: String) throws {
        let error = #expect(throws: DefenderError.self) { try DefenderConfiguration.fromEnvironment([name: value]) }
        #expect(error?.setting == name, "\(name)=\(value): \(String(describing: error))")
        #expect(error?.description.contains(name) == true)
    }
}
