import DefenderCore
import Testing

extension AttemptStoreContract {
    /// Every scenario beyond django-defender: spraying, the cool-off cap and jitter.
    public func runBeyond() async throws {
        try await sprayDetection()
        try await sprayBlocksInEveryMode()
        try await concurrentSprayGetsNoExtraChecks()
        try await cooloffCap()
        try await lockoutJitter()
        try await aSuccessLiftsOnlyTheBlocksFailuresCaused()
    }

    /// A success clears counters and the automatic blocks failures caused, never an operator's block or a spray
    /// block. It can meet one only when it was admitted before the block landed — an operator blocks a stolen
    /// account while its attacker's password is being checked — or under a dry run, which admits everyone.
    public func aSuccessLiftsOnlyTheBlocksFailuresCaused() async throws {
        let engine = try await defender()
        let address = try #require(IPAddress("198.51.100.77"))
        guard case .allowed(let attempt) = try await engine.check(ip: engine.resolver.client(address), username: "carol") else {
            Issue.record("carol's first login was refused")
            return
        }
        try await engine.block(username: "carol")
        try await engine.block(ip: "198.51.100.77")
        try await engine.recordSuccess(attempt)
        #expect(try await engine.store.state(of: engine.usernameKey("carol")).block?.isManual == true, "the operator's block of carol was lifted")
        #expect(try await engine.store.state(of: engine.ipKey("198.51.100.77")).block?.isManual == true, "the operator's block of the IP was lifted")

        let dryRun = try await defender {
            $0.dryRun = true
            $0.loginFailureLimitIP = 100
            $0.sprayUsernameLimit = 3
        }
        try await dryRun.block(username: "dave")
        for index in 1...4 { _ = try await dryRun.login(ip: "198.51.100.78", username: "sprayed\(index)", correctPassword: false) }
        #expect(try await dryRun.store.state(of: dryRun.ipKey("198.51.100.78")).block != nil, "the spray was not recorded")
        #expect(try await dryRun.login(ip: "198.51.100.78", username: "dave", correctPassword: true) == .success)
        #expect(try await dryRun.store.state(of: dryRun.usernameKey("dave")).block?.isManual == true, "a dry run's success lifted an operator's block")
        #expect(try await dryRun.store.state(of: dryRun.ipKey("198.51.100.78")).block != nil, "a dry run's success lifted a spray block")
        // What failures caused is lifted as before.
        for _ in 1...4 { _ = try await dryRun.login(ip: "198.51.100.79", username: "erin", correctPassword: false) }
        #expect(try await dryRun.store.state(of: dryRun.usernameKey("erin")).block?.isManual == false)
        #expect(try await dryRun.login(ip: "198.51.100.80", username: "erin", correctPassword: true) == .success)
        #expect(try await dryRun.store.state(of: dryRun.usernameKey("erin")).block == nil, "a success keeps lifting the block failures caused")
    }

    /// One IP, many usernames, one wrong password each: blocked after the spray limit though no counter is
    /// near its limit; repeating one username is not spraying; a success does not forgive it; an unblock does.
    public func sprayDetection() async throws {
        let configure: (inout DefenderConfiguration) -> Void = {
            $0.loginFailureLimitIP = 100
            $0.loginFailureLimitUsername = 100
            $0.sprayUsernameLimit = 5
        }
        var steps = (1...5).map { LoginStep("203.0.113.9", "user\($0)", expect: .failure) }
        steps.append(LoginStep("203.0.113.9", "user6", expect: .lockedOut))
        steps += (7...20).map { LoginStep("203.0.113.9", "user\($0)", correct: $0 == 7, expect: .refused) }
        steps.append(LoginStep("203.0.113.10", "user1", expect: .failure))  // another IP is not affected
        steps += (1...8).map { _ in LoginStep("203.0.113.11", "typo", expect: .failure) }  // one username, many times
        // A success (even under DEFENDER_SUCCESS_RESET=all, this contract's reset) does not forgive spraying.
        steps += (1...5).map { LoginStep("203.0.113.12", "other\($0)", expect: .failure) }
        steps.append(LoginStep("203.0.113.12", "mallory", correct: true, expect: .success))
        steps.append(LoginStep("203.0.113.12", "other6", expect: .lockedOut))
        try await expect(steps, configure: configure)

        let engine = try await defender(configure)
        _ = try await engine.run((1...6).map { LoginStep("2001:db8:5::1", "v\($0)", expect: .failure) })
        #expect(try await engine.login(ip: "2001:db8:5::2", username: "v7", correctPassword: false) == .refused)  // the /64 group
        try await engine.unblock(ip: "2001:db8:5::1")
        #expect(try await engine.login(ip: "2001:db8:5::1", username: "v8", correctPassword: false) == .failure)
    }

    /// A spray block locks in AND mode and with IP lockout disabled, like an operator's block.
    public func sprayBlocksInEveryMode() async throws {
        for mode in 0..<2 {
            let engine = try await defender {
                $0.sprayUsernameLimit = 3
                $0.loginFailureLimit = 100
                if mode == 0 { $0.lockOutByIPAndUsername = true } else { $0.disableIPLockout = true }
            }
            let results = try await engine.run((1...5).map { LoginStep("198.51.100.77", "m\($0)", expect: .failure) })
            #expect(results == [.failure, .failure, .failure, .lockedOut, .refused], "mode \(mode)")
        }
    }

    /// 40 wrong passwords at once from one IP for 40 usernames, spray limit 5: exactly the 6 password checks
    /// the same requests would get one after another.
    public func concurrentSprayGetsNoExtraChecks() async throws {
        let engine = try await defender {
            $0.loginFailureLimitIP = 1000
            $0.sprayUsernameLimit = 5
        }
        let (results, checks) = try await Self.storm(engine: engine, count: 40) { index in ("192.0.2.99", "target\(index)", false) }
        #expect(checks == 6, "\(results)")
        #expect(results[.failure] == 5 && results[.lockedOut] == 1 && results[.refused] == 34, "\(results)")
    }

    /// `DEFENDER_LOCKOUT_COOLOFF_MAX` cuts long and permanent steps.
    public func cooloffCap() async throws {
        let engine = try await defender {
            $0.lockoutCooloffTimes = [.seconds(2), .zero]
            $0.lockoutCooloffMax = .seconds(7)
            $0.attemptCooloffTime = .seconds(600)
        }
        var retries: [Int?] = []
        for round in 0..<3 {
            let ip = "10.17.0.\(round)"
            for _ in 0..<3 { _ = try await engine.login(ip: ip, username: "capped", correctPassword: false) }
            let attempt = LoginAttempt(ip: engine.resolver.client(IPAddress(ip)!), submittedUsername: "capped")
            retries.append(try await engine.recordFailure(attempt)?.retryAfterSeconds)
            try await engine.unblock(username: "capped")
        }
        #expect(retries == [2, 7, 7])
    }

    /// `DEFENDER_LOCKOUT_JITTER`: each block gets up to the jitter more, at random.
    public func lockoutJitter() async throws {
        let engine = try await defender {
            $0.cooloffTime = .seconds(100)
            $0.lockoutJitter = .seconds(60)
        }
        var retries: Set<Int> = []
        for user in 0..<12 {
            _ = try await engine.run((1...3).map { _ in LoginStep("10.18.0.\(user)", "jitter\(user)", expect: .failure) })
            let attempt = LoginAttempt(ip: engine.resolver.client(IPAddress("10.18.0.\(user)")!), submittedUsername: "jitter\(user)")
            if let seconds = try await engine.recordFailure(attempt)?.retryAfterSeconds { retries.insert(seconds) }
        }
        #expect(retries.allSatisfy { (100...160).contains($0) }, "\(retries.sorted())")
        #expect(retries.count >= 3, "12 blocks with 60 s of jitter should not land on one or two values: \(retries.sorted())")
    }
}
