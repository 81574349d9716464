import DefenderCore
import DefenderTesting
import Synchronization
import Testing

/// The store contract and django-defender's rules, on the memory store with a manual clock.
@Suite struct EngineTests {
    let clock = ManualClock()

    var contract: AttemptStoreContract { .memory(clock: clock) }

    func engine(_ configure: (inout DefenderConfiguration) -> Void = { _ in }) -> Defender {
        var config = DefenderConfiguration()
        configure(&config)
        return Defender(configuration: config, store: MemoryAttemptStore(capacity: 10_000, clock: clock))
    }

    // Attempt-by-attempt tables for limit 3 in each mode (see AttemptStoreContract for each table).
    @Test func limitOffByOne() async throws { try await contract.limitOffByOne() }
    @Test func correctPasswordOnCrossingAttempt() async throws { try await contract.correctPasswordOnCrossingAttempt() }
    @Test func blockedRequestsAreNotCounted() async throws { try await contract.blockedRequestsAreNotCounted() }
    // Ported: test_lockout_by_ip_and_username (#40).
    @Test func andMode() async throws { try await contract.andMode() }
    // Ported: test_disable_ip_lockout (#41).
    @Test func ipLockoutDisabled() async throws { try await contract.ipLockoutDisabled() }
    // Ported: test_disable_username_lockout (#42).
    @Test func usernameLockoutDisabled() async throws { try await contract.usernameLockoutDisabled() }
    // Ported: test_username_failure_limit (#7) and test_ip_failure_limit (#8), combined.
    @Test func separateLimits() async throws { try await contract.separateLimits() }
    @Test func andModeWithDisabledDimension() async throws { try await contract.andModeWithDisabledDimension() }
    // Ported: test_empty_username_cannot_be_blocked (#14) and test_lowercase (#15).
    @Test func emptyUsernameIsNeverCounted() async throws { try await contract.emptyUsernameIsNeverCounted() }
    @Test func successResetPolicies() async throws { try await contract.successResetPolicies() }
    // Ported: test_username_blocking (#68), test_ip_address_blocking (#69), test_username_argument_precedence (#70).
    @Test func manualBlocks() async throws { try await contract.manualBlocks() }
    // Ported: test_data_integrity_of_get_blocked_ips / _usernames (#1, #2).
    @Test func listingPagesThroughBlocks() async throws { try await contract.listingPagesThroughBlocks() }
    // Ported: test_lockout_cooloff_correctly_scales_with_ip/username_when_set (#52, #53), test_failed_login_no_cooloff (#26).
    @Test func escalationAndExpiry() async throws { try await contract.escalationAndExpiry() }

    // Ported: test_failure_limit_by_ip_once (#4) and _many (#5), with the test settings (limit 10).
    @Test func failureLimitByIP() async throws {
        let engine = engine { $0.loginFailureLimit = 10 }
        for index in 0..<10 { #expect(try await engine.login(ip: "1.1.1.1", username: "random\(index)", correctPassword: false) == .failure) }
        #expect(try await engine.login(ip: "1.1.1.1", username: "random10", correctPassword: false) == .lockedOut)
        for _ in 0..<9 { #expect(try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: true) == .refused) }
        #expect(try await engine.login(ip: "1.1.1.1", username: nil, correctPassword: false) == .refused)  // a GET
    }

    // Ported: test_blocked_username_cannot_login (#12) and test_blocked_username_uppercase_saved_lower (#13).
    @Test func usernameIsLowerCasedAndTrimmed() async throws {
        let engine = engine { $0.disableIPLockout = true }
        for variant in ["VALID", "valid ", " Valid", "vAlId\t"] {
            _ = try await engine.login(ip: "1.1.1.1", username: variant, correctPassword: false)
        }
        #expect(try await engine.login(ip: "8.8.8.8", username: "valid", correctPassword: true) == .refused)
        let blocked = try await engine.allBlocks(of: .username).map(\.key.value)
        #expect(blocked == ["valid"])
    }

    // Ported: test_reset_after_valid_login (#10) and test_reset_ip (#22).
    @Test func resetAfterValidLoginAndOperatorReset() async throws {
        let engine = engine { $0.loginFailureLimit = 10 }
        for _ in 0..<10 { _ = try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: false) }
        #expect(try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: true) == .success)
        #expect(try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: false) == .failure)
        for _ in 0..<10 { _ = try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: false) }
        try await engine.unblock(ip: "1.1.1.1")
        try await engine.unblock(username: "valid")
        #expect(try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: true) == .success)
    }

    // Ported: test_cooling_off (#16) and test_cooling_off_for_trusted_user (#17), without sleeping.
    @Test func coolingOff() async throws {
        let engine = engine { $0.cooloffTime = .seconds(2) }
        for _ in 0..<4 { _ = try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: false) }
        #expect(try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: true) == .refused)
        clock.advance(by: .seconds(2))
        #expect(try await engine.login(ip: "1.1.1.1", username: "valid", correctPassword: true) == .success)
    }

    @Test func countersExpireAfterTheAttemptCooloff() async throws {
        let engine = engine { $0.attemptCooloffTime = .seconds(30) }
        for _ in 0..<3 { _ = try await engine.login(ip: "1.1.1.1", username: "u", correctPassword: false) }
        clock.advance(by: .seconds(29))
        // Each failure refreshes the window, so the counter is still alive here.
        #expect(try await engine.login(ip: "1.1.1.1", username: "u", correctPassword: false) == .lockedOut)
        let other = self.engine { $0.attemptCooloffTime = .seconds(30) }
        for _ in 0..<3 { _ = try await other.login(ip: "2.2.2.2", username: "v", correctPassword: false) }
        clock.advance(by: .seconds(31))
        #expect(try await other.login(ip: "2.2.2.2", username: "v", correctPassword: false) == .failure)
        // Zero: counters never expire.
        let forever = self.engine { $0.attemptCooloffTime = .zero }
        for _ in 0..<3 { _ = try await forever.login(ip: "3.3.3.3", username: "w", correctPassword: false) }
        clock.advance(by: .seconds(10 * 365 * 24 * 3600))
        #expect(try await forever.login(ip: "3.3.3.3", username: "w", correctPassword: false) == .lockedOut)
    }

    @Test func retryAfterIsTheTimeLeft() async throws {
        let engine = engine { $0.cooloffTime = .seconds(300) }
        for _ in 0..<4 { _ = try await engine.login(ip: "1.1.1.1", username: "u", correctPassword: false) }
        clock.advance(by: .seconds(100))
        guard case .locked(let lockout) = try await engine.check(ip: engine.resolver.client(IPAddress("1.1.1.1")!), username: "u") else {
            Issue.record("not locked")
            return
        }
        #expect(lockout.retryAfterSeconds == 200)
        #expect(Set(lockout.keys.map(\.kind)) == [.ip, .username])
    }

    @Test func escalationHistoryExpiresWithTheWindow() async throws {
        let engine = engine {
            $0.lockoutCooloffTimes = [.seconds(10), .seconds(100)]
            $0.accessAttemptExpiration = .seconds(3600)
        }
        func lockOnce() async throws -> Int? {
            for _ in 0..<3 { _ = try await engine.login(ip: "1.1.1.1", username: "u", correctPassword: false) }
            let attempt = LoginAttempt(ip: engine.resolver.client(IPAddress("1.1.1.1")!), submittedUsername: "u")
            let lockout = try await engine.recordFailure(attempt)
            try await engine.unblock(ip: "1.1.1.1")
            try await engine.unblock(username: "u")
            return lockout?.retryAfterSeconds
        }
        #expect(try await lockOnce() == 10)
        #expect(try await lockOnce() == 100)
        clock.advance(by: .seconds(3601))
        #expect(try await lockOnce() == 10)
        #expect(try await engine.store.state(of: engine.usernameKey("u")).lockoutCount == 1)
    }

    @Test func andModeRetryIsTheEarlierBlock() async throws {
        let engine = engine {
            $0.lockOutByIPAndUsername = true
            $0.lockoutCooloffTimes = [.seconds(60)]
        }
        for _ in 0..<4 { _ = try await engine.login(ip: "1.1.1.1", username: "u", correctPassword: false) }
        clock.advance(by: .seconds(30))
        // A failure by another user from the blocked IP refreshes the IP block (django-defender re-SETs it).
        #expect(try await engine.login(ip: "1.1.1.1", username: "x", correctPassword: false) == .failure)
        guard case .locked(let lockout) = try await engine.check(ip: engine.resolver.client(IPAddress("1.1.1.1")!), username: "u") else {
            Issue.record("not locked")
            return
        }
        #expect(lockout.retryAfterSeconds == 30)
    }

    @Test func longUsernamesAreKeyedByDigest() {
        let long = String(repeating: "a", count: 300)
        let key = DefenderKey.normalizeUsername(long)
        #expect(key?.hasPrefix("sha256:") == true && key?.count == 71)
        #expect(DefenderKey.normalizeUsername(long + "b") != key)
        #expect(DefenderKey.normalizeUsername(long.uppercased()) == key)
        #expect(DefenderKey.normalizeUsername("\u{200B}\u{0007}") == nil)
        #expect(LoginAttempt(ip: ClientAddress(address: .v4(1)), submittedUsername: long).submittedUsername?.count == 255)
    }

    @Test func operatorKeysAcceptIPv6Groups() async throws {
        let engine = engine()
        #expect(try engine.ipKey("2001:db8:1:2::99").value == "2001:db8:1:2::/64")
        #expect(try engine.ipKey("2001:db8:1:2::/64").value == "2001:db8:1:2::/64")
        #expect(try engine.ipKey("[2001:db8::1]:443").value == "2001:db8::/64")
        #expect(throws: DefenderError.self) { try engine.ipKey("not-an-ip") }
        #expect(throws: DefenderError.self) { try engine.ipKey("2001:db8::/48") }
        #expect(throws: DefenderError.self) { try engine.usernameKey("  ") }
        try await engine.block(ip: "2001:db8:1:2::5")
        #expect(try await engine.login(ip: "2001:db8:1:2:aaaa::1", username: "u", correctPassword: true) == .refused)
        #expect(try await engine.unblock(ip: "2001:db8:1:2::/64"))
    }
}

/// Events: once per transition, delivered off the login path.
@Suite struct EventTests {
    /// The README's handler shape: a switch over the cases with their values. Descriptions redact by default.
    @Test func eventsAreAnEnumWithTheirValues() {
        func react(_ event: DefenderEvent) -> String {
            switch event {
            case .ipBlocked(let ip): "drop \(ip)"
            case .usernameBlocked(let username): "warn \(username)"
            case .pairBlocked(let address, let username): "warn \(username) at \(address)"
            case .trustedLoginDuringLockout(let username): "tell \(username)"
            case .ipUnblocked, .usernameUnblocked, .pairUnblocked, .deviceBlocked, .deviceUnblocked: "nothing"
            }
        }
        let pair = DefenderEvent(key: .pair(address: DefenderKey(kind: .ip, normalizedValue: "100.64.0.7"), username: DefenderKey.username("Bob|x")!), blocked: true)
        #expect(pair == .pairBlocked(address: "100.64.0.7", username: "bob|x") && react(pair) == "warn bob|x at 100.64.0.7")
        #expect(pair.key == DefenderKey(kind: .pair, normalizedValue: "100.64.0.7|bob|x") && pair.name == "pairBlocked" && pair.isBlock)
        let key = DefenderKey(kind: .ip, normalizedValue: "2001:db8::/64")
        let event = DefenderEvent(key: key, blocked: true)
        #expect(event == .ipBlocked("2001:db8::/64") && react(event) == "drop 2001:db8::/64")
        #expect(event.key == key && event.isBlock && event.name == "ipBlocked")
        #expect(react(DefenderEvent(key: DefenderKey(kind: .username, normalizedValue: "eve"), blocked: true)) == "warn eve")
        #expect(!DefenderEvent(key: key, blocked: false).isBlock)
        #expect("\(event)" == "ipBlocked ********" && event.description(redacted: false) == "ipBlocked 2001:db8::/64")
    }

    actor Collector {
        var events: [String] = []
        func add(_ event: DefenderEvent) { events.append(event.description(redacted: false)) }
    }

    // Ported: SignalTest #58–#63 (and #63's intent, which the original tested with the wrong call).
    @Test func oncePerTransition() async throws {
        let bus = DefenderEventBus()
        let collector = Collector()
        bus.on { await collector.add($0) }
        let runner = Task { await bus.run() }
        var config = DefenderConfiguration()
        config.lockOutByIPAndUsername = true
        let engine = Defender(configuration: config, store: MemoryAttemptStore(clock: ManualClock()), events: bus)
        for _ in 0..<4 { _ = try await engine.login(ip: "8.8.8.8", username: "Richard", correctPassword: false) }
        _ = try await engine.login(ip: "8.8.8.8", username: "other", correctPassword: false)  // refreshes: no event
        try await engine.block(ip: "8.8.8.8")  // already blocked: no event
        try await engine.unblock(ip: "8.8.8.8")
        try await engine.unblock(ip: "8.8.8.8")  // not blocked: no event
        _ = try await engine.login(ip: "9.9.9.9", username: "nobody", correctPassword: true)  // nothing to unblock
        try await engine.unblock(username: "richard")
        try await engine.block(username: "richard_hendricks")
        bus.finish()
        await runner.value
        #expect(await collector.events == [
            "ipBlocked 8.8.8.8", "usernameBlocked richard", "ipUnblocked 8.8.8.8", "usernameUnblocked richard",
            "usernameBlocked richard_hendricks",
        ])
        #expect(bus.droppedCount == 0)
    }

    @Test func successUnblocksFireEvents() async throws {
        let bus = DefenderEventBus()
        let collector = Collector()
        bus.on { await collector.add($0) }
        let runner = Task { await bus.run() }
        let clock = ManualClock()
        var config = DefenderConfiguration()
        config.successReset = .all
        config.attemptCooloffTime = .seconds(600)
        config.lockoutCooloffTimes = [.seconds(5)]
        let engine = Defender(configuration: config, store: MemoryAttemptStore(clock: clock), events: bus)
        for _ in 0..<4 { _ = try await engine.login(ip: "8.8.8.8", username: "u", correctPassword: false) }
        try await engine.block(ip: "8.8.8.8", for: .seconds(1))
        try await engine.unblock(username: "u")
        clock.advance(by: .seconds(6))
        #expect(try await engine.login(ip: "8.8.8.8", username: "u", correctPassword: true) == .success)
        bus.finish()
        await runner.value
        #expect(await collector.events == ["ipBlocked 8.8.8.8", "usernameBlocked u", "usernameUnblocked u"])
    }

    @Test func boundedBuffer() {
        let bus = DefenderEventBus(bufferSize: 2)
        bus.on { _ in }  // not delivering yet: its queue holds two
        for index in 0..<5 { bus.emit(DefenderEvent(key: DefenderKey(kind: .ip, normalizedValue: "1.1.1.\(index)"), blocked: true)) }
        #expect(bus.droppedCount == 3)
    }

    /// A handler that never returns (a webhook whose server does not answer) neither holds up nor makes drop the
    /// events of another (the unlock e-mail, the owner's way back in): each handler has its own queue and task.
    /// It once delayed every other handler by its timeout per event, and made the shared queue drop theirs.
    @Test func aStuckHandlerDoesNotHoldUpTheOthers() async throws {
        let bus = DefenderEventBus(bufferSize: 100)
        let stuck = Mutex(false)
        bus.on { _ in
            stuck.withLock { $0 = true }
            // Stuck until the bus stops (its task is cancelled then).
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
        let collector = Collector()
        bus.on { await collector.add($0) }
        let runner = Task { await bus.run() }
        func event(_ index: Int) -> DefenderEvent { DefenderEvent(key: DefenderKey(kind: .ip, normalizedValue: "1.1.1.\(index)"), blocked: true) }
        bus.emit(event(0))
        #expect(try await eventually { await collector.events.count == 1 && stuck.withLock { $0 } })
        // 150 more, in steps the other handler keeps up with: the stuck one holds 100 of them and drops 50.
        for step in 0..<15 {
            for index in 1...10 { bus.emit(event(step * 10 + index)) }
            #expect(try await eventually { await collector.events.count == 1 + (step + 1) * 10 }, "step \(step)")
        }
        let received = await collector.events
        #expect(received.count == 151 && received.last == "ipBlocked 1.1.1.150")
        #expect(bus.droppedCount == 50)
        runner.cancel()
        await runner.value
    }
}
