import DefenderCore
import Testing

extension AttemptStoreContract {
    /// Every long-window scenario (`DEFENDER_LONG_WINDOW`, `DEFENDER_LONG_WINDOW_FAILURE_LIMIT`).
    public func runLongWindow() async throws {
        try await slowGuessingLocksAtTheLongWindowLimit()
        try await slowGuessingFromManyAddressesLocksTheUsername()
        try await aForgetfulUserIsNeverLockedByTheLongWindow()
        try await concurrentGuessesGetNoExtraChecksFromTheLongWindow()
    }

    /// Short settings for the slow attacker: counters forget after a second, the long window keeps 60 s, limit 6.
    static func slow(_ config: inout DefenderConfiguration) {
        config.attemptCooloffTime = .seconds(1)
        config.longWindow = .seconds(60)
        config.longWindowFailureLimit = 6
    }

    /// Three wrong passwords, a pause past the attempt cool-off, three more: the counters (limit 3) never reach
    /// their limit, and the 7th failure within the window locks the IP and the username. An operator's unblock
    /// clears the window; the same attacker without the long window (limit 0) is never locked.
    public func slowGuessingLocksAtTheLongWindowLimit() async throws {
        let engine = try await defender(Self.slow)
        for round in 0..<2 {
            for attempt in 0..<3 {
                #expect(try await engine.login(ip: "10.21.0.1", username: "slow", correctPassword: false) == .failure, "round \(round) attempt \(attempt)")
            }
            try await advance(.milliseconds(1_100))
        }
        let attempt = LoginAttempt(ip: engine.resolver.client(IPAddress("10.21.0.1")!), submittedUsername: "slow")
        let result = try await engine.recordFailureDetails(attempt)
        #expect(result.lockout != nil)
        #expect(result.longWindowBlocked.map(\.description) == ["ip:10.21.0.1", "username:slow"])
        #expect(try await engine.login(ip: "10.21.0.2", username: "slow", correctPassword: true) == .refused)
        #expect(try await engine.login(ip: "10.21.0.1", username: "other", correctPassword: true) == .refused)

        try await engine.unblock(username: "slow")
        try await engine.unblock(ip: "10.21.0.1")
        #expect(try await engine.login(ip: "10.21.0.1", username: "slow", correctPassword: false) == .failure)

        let off = try await defender {
            Self.slow(&$0)
            $0.longWindowFailureLimit = 0
        }
        for _ in 0..<3 {
            for _ in 0..<3 { #expect(try await off.login(ip: "10.21.0.3", username: "slow-off", correctPassword: false) == .failure) }
            try await advance(.milliseconds(1_100))
        }
    }

    /// A new address for every three guesses: no address reaches any limit, the username's long window does.
    public func slowGuessingFromManyAddressesLocksTheUsername() async throws {
        let engine = try await defender(Self.slow)
        for round in 0..<2 {
            for attempt in 0..<3 {
                let result = try await engine.login(ip: "10.22.\(round).\(attempt)", username: "target", correctPassword: false)
                #expect(result == .failure)
            }
            try await advance(.milliseconds(1_100))
        }
        let attempt = LoginAttempt(ip: engine.resolver.client(IPAddress("10.22.9.9")!), submittedUsername: "target")
        let result = try await engine.recordFailureDetails(attempt)
        #expect(result.lockout?.keys.map(\.description) == ["username:target"])
        #expect(result.longWindowBlocked.map(\.description) == ["username:target"])
        #expect(try await engine.login(ip: "10.22.9.8", username: "target", correctPassword: true) == .refused)
        #expect(try await engine.login(ip: "10.22.9.9", username: "someone-else", correctPassword: true) == .success)
    }

    /// Two typos and a success, again and again from one address: under `DEFENDER_SUCCESS_RESET=own` (the
    /// default) the success takes the user's failures out of the address's long window as out of its counter, so
    /// nobody is locked; under `all` the success clears both.
    public func aForgetfulUserIsNeverLockedByTheLongWindow() async throws {
        for reset in [SuccessReset.own, .all] {
            let engine = try await defender {
                Self.slow(&$0)
                $0.successReset = reset
            }
            for day in 0..<5 {
                for _ in 0..<2 {
                    #expect(try await engine.login(ip: "10.23.0.1", username: "forgetful", correctPassword: false) == .failure, "\(reset) day \(day)")
                }
                #expect(try await engine.login(ip: "10.23.0.1", username: "forgetful", correctPassword: true) == .success, "\(reset) day \(day)")
            }
        }
    }

    /// Five slow failures, a pause, then 20 wrong passwords at once from 20 addresses: the long window (6) leaves
    /// room for one more failure, so exactly the two checks the same requests would get one after another run
    /// (one failure, then the lockout), however they interleave.
    public func concurrentGuessesGetNoExtraChecksFromTheLongWindow() async throws {
        let engine = try await defender(Self.slow)
        for attempt in 0..<5 {
            #expect(try await engine.login(ip: "10.24.0.\(attempt)", username: "stormed", correctPassword: false) == .failure)
            if attempt == 2 { try await advance(.milliseconds(1_100)) }
        }
        try await advance(.milliseconds(1_100))
        let (results, checks) = try await Self.storm(engine: engine, count: 20) { index in ("10.24.1.\(index)", "stormed", false) }
        #expect(checks == 2, "\(results)")
        #expect(results[.failure] == 1 && results[.lockedOut] == 1 && results[.refused] == 18, "\(results)")
    }
}
