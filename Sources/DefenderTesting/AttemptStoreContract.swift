import DefenderCore
import Testing

/// The behaviour every `AttemptStore` must show: django-defender's sequential rules, mode by mode.
///
/// A store's test target calls `runAll()` (or single scenarios) with a factory for fresh, empty stores.
/// `advance` moves the store's time forward: a ``ManualClock`` for the memory store, a real wait for a server.
public struct AttemptStoreContract: Sendable {
    /// Makes a fresh, empty store for one test, with the given clock.
    public typealias Factory = @Sendable () async throws -> any AttemptStore

    let makeStore: Factory
    let advance: @Sendable (Duration) async throws -> Void

    /// - Parameters:
    ///   - makeStore: returns a fresh store with no keys (use a unique prefix per call for shared servers).
    ///   - advance: moves the store's clock forward by at least the given time.
    public init(makeStore: @escaping Factory, advance: @escaping @Sendable (Duration) async throws -> Void) {
        self.makeStore = makeStore
        self.advance = advance
    }

    func defender(_ configure: (inout DefenderConfiguration) -> Void = { _ in }) async throws -> Defender {
        var config = DefenderConfiguration()
        config.successReset = .all
        configure(&config)
        try config.validate()
        return Defender(configuration: config, store: try await makeStore())
    }

    /// Runs a script on a fresh engine and checks every step, naming the first that differs.
    public func expect(
        _ steps: [LoginStep], sourceLocation: SourceLocation = #_sourceLocation,
        configure: (inout DefenderConfiguration) -> Void = { _ in }
    ) async throws {
        let engine = try await defender(configure)
        let results = try await engine.run(steps)
        for (index, (step, result)) in zip(steps, results).enumerated() where step.expected != result {
            Issue.record("step \(index + 1) \(step): got \(result)", sourceLocation: sourceLocation)
        }
    }

    /// Every scenario below.
    public func runAll() async throws {
        try await limitOffByOne()
        try await correctPasswordOnCrossingAttempt()
        try await blockedRequestsAreNotCounted()
        try await andMode()
        try await ipLockoutDisabled()
        try await usernameLockoutDisabled()
        try await separateLimits()
        try await andModeWithDisabledDimension()
        try await emptyUsernameIsNeverCounted()
        try await successResetPolicies()
        try await manualBlocks()
        try await listingPagesThroughBlocks()
        try await escalationAndExpiry()
    }

    /// Limit 3: failures 1–3 are failures, the 4th is locked out, later ones are refused, for IP and username.
    public func limitOffByOne() async throws {
        try await expect([
            LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", expect: .lockedOut),
            LoginStep("10.0.0.1", "alice", correct: true, expect: .refused),
            LoginStep("10.0.0.1", "bob", correct: true, expect: .refused),  // the IP is blocked
            LoginStep("10.0.0.2", "alice", correct: true, expect: .refused),  // the username is blocked
            LoginStep("10.0.0.2", "bob", correct: true, expect: .success),
        ])
    }

    /// A right password on attempt limit+1 logs in and clears the counters.
    public func correctPasswordOnCrossingAttempt() async throws {
        try await expect([
            LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", correct: true, expect: .success),
            LoginStep("10.0.0.1", "alice", expect: .failure),  // counters were reset
            LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", expect: .lockedOut),
        ])
    }

    /// Refused requests do not move counters: after a block lifts, one more failure re-blocks (count L+2).
    public func blockedRequestsAreNotCounted() async throws {
        let engine = try await defender()
        _ = try await engine.run((1...4).map { _ in LoginStep("10.0.0.9", "carol", expect: .failure) })
        for _ in 0..<5 { #expect(try await engine.login(ip: "10.0.0.9", username: "carol", correctPassword: false) == .refused) }
        let state = try await engine.store.state(of: DefenderKey(kind: .ip, normalizedValue: "10.0.0.9"))
        #expect(state.failures == 4)
    }

    /// AND mode: a request is locked only when both its IP and its username are blocked.
    public func andMode() async throws {
        try await expect(
            [
                LoginStep("10.0.0.1", "testy", expect: .failure),
                LoginStep("10.0.0.1", "testy", expect: .failure),
                LoginStep("10.0.0.1", "testy", expect: .failure),
                LoginStep("10.0.0.1", "testy", expect: .lockedOut),
                LoginStep("10.0.0.1", "testy", expect: .refused),
                LoginStep("10.0.0.1", "random", expect: .failure),  // only the IP is blocked
                LoginStep("10.0.0.1", "valid", correct: true, expect: .success),  // does not clear the IP
                LoginStep("10.0.0.1", "testy", expect: .refused),
                LoginStep("10.0.0.2", "testy", expect: .failure),  // only the username is blocked
            ], configure: { $0.lockOutByIPAndUsername = true })
    }

    /// IP lockout disabled: one IP may fail with many names; a username still locks.
    public func ipLockoutDisabled() async throws {
        var steps = (1...6).map { LoginStep("10.0.0.1", "user\($0)", expect: .failure) }
        steps += [
            LoginStep("10.0.1.1", "testy", expect: .failure),
            LoginStep("10.0.1.2", "testy", expect: .failure),
            LoginStep("10.0.1.3", "testy", expect: .failure),
            LoginStep("10.0.1.4", "testy", expect: .lockedOut),
            LoginStep("10.0.1.5", "testy", correct: true, expect: .refused),
            LoginStep("10.0.1.4", "other", correct: true, expect: .success),
        ]
        try await expect(steps, configure: { $0.disableIPLockout = true })
    }

    /// Username lockout disabled: one name may fail from many IPs; an IP still locks.
    public func usernameLockoutDisabled() async throws {
        var steps = (1...6).map { LoginStep("10.0.2.\($0)", "testy", expect: .failure) }
        steps += [
            LoginStep("10.0.3.1", "a", expect: .failure),
            LoginStep("10.0.3.1", "b", expect: .failure),
            LoginStep("10.0.3.1", "c", expect: .failure),
            LoginStep("10.0.3.1", "d", expect: .lockedOut),
            LoginStep("10.0.3.1", "e", correct: true, expect: .refused),
            LoginStep("10.0.3.2", "testy", correct: true, expect: .success),
        ]
        try await expect(steps, configure: { $0.disableUsernameLockout = true })
    }

    /// LIMIT=3, LIMIT_IP=2, LIMIT_USERNAME=4: the 3rd failure blocks the IP while the username is at 3.
    public func separateLimits() async throws {
        try await expect(
            [
                LoginStep("10.0.0.1", "alice", expect: .failure),
                LoginStep("10.0.0.1", "alice", expect: .failure),
                LoginStep("10.0.0.1", "alice", expect: .lockedOut),
                LoginStep("10.0.0.1", "bob", expect: .refused),
                LoginStep("10.0.0.2", "alice", expect: .failure),  // username at 4, limit 4
                LoginStep("10.0.0.3", "alice", expect: .lockedOut),
                LoginStep("10.0.0.4", "alice", correct: true, expect: .refused),
            ],
            configure: {
                $0.loginFailureLimitIP = 2
                $0.loginFailureLimitUsername = 4
            })
    }

    /// AND mode with a dimension disabled locks by the other one alone (0.9.8 never locked: a bug not copied).
    public func andModeWithDisabledDimension() async throws {
        try await expect(
            [
                LoginStep("10.0.0.1", "alice", expect: .failure),
                LoginStep("10.0.0.2", "alice", expect: .failure),
                LoginStep("10.0.0.3", "alice", expect: .failure),
                LoginStep("10.0.0.4", "alice", expect: .lockedOut),
                LoginStep("10.0.0.5", "alice", correct: true, expect: .refused),
            ],
            configure: {
                $0.lockOutByIPAndUsername = true
                $0.disableIPLockout = true
            })
        try await expect(
            [
                LoginStep("10.0.0.1", "a", expect: .failure),
                LoginStep("10.0.0.1", "b", expect: .failure),
                LoginStep("10.0.0.1", "c", expect: .failure),
                LoginStep("10.0.0.1", "d", expect: .lockedOut),
                LoginStep("10.0.0.1", "e", correct: true, expect: .refused),
            ],
            configure: {
                $0.lockOutByIPAndUsername = true
                $0.disableUsernameLockout = true
            })
    }

    /// Empty and blank usernames are never counted or blocked; only the IP is.
    public func emptyUsernameIsNeverCounted() async throws {
        let engine = try await defender { $0.disableIPLockout = true }
        for name in ["", "   ", "\t\n", nil] as [String?] {
            for _ in 0..<6 { #expect(try await engine.login(ip: "10.0.0.1", username: name, correctPassword: false) == .failure) }
        }
        #expect(try await engine.allBlocks(of: .username).isEmpty)
    }

    /// `all` clears the IP (django-defender), `own` only this user's share of it, `username` none of it.
    public func successResetPolicies() async throws {
        // Limit 5. Two failures against bob and two against alice from one IP, then alice logs in.
        let prefix = [
            LoginStep("10.0.0.1", "bob", expect: .failure), LoginStep("10.0.0.1", "bob", expect: .failure),
            LoginStep("10.0.0.1", "alice", expect: .failure), LoginStep("10.0.0.1", "alice", expect: .failure),
            LoginStep("10.0.0.1", "alice", correct: true, expect: .success),
        ]
        func failures(_ count: Int) -> [LoginStep] {
            (0..<count).map { LoginStep("10.0.0.1", "other\($0)", expect: .failure) }
                + [LoginStep("10.0.0.1", "last", expect: .lockedOut)]
        }
        // all: the IP counter is 0 again, so five more failures are allowed (the spraying hole).
        try await expect(prefix + failures(5)) { $0.loginFailureLimit = 5; $0.successReset = .all }
        // own: bob's two failures remain, so three more are allowed.
        try await expect(prefix + failures(3)) { $0.loginFailureLimit = 5; $0.successReset = .own }
        // username: all four remain, so one more is allowed.
        try await expect(prefix + failures(1)) { $0.loginFailureLimit = 5; $0.successReset = .username }
        // A user's own failures are forgiven under `own`: alice alone behaves as under django-defender.
        try await expect(
            [
                LoginStep("10.0.0.1", "alice", expect: .failure), LoginStep("10.0.0.1", "alice", expect: .failure),
                LoginStep("10.0.0.1", "alice", expect: .failure), LoginStep("10.0.0.1", "alice", correct: true, expect: .success),
            ] + failures(3), configure: { $0.successReset = .own })
    }

    /// Manual blocks lock in every mode, even a disabled one; unblocking clears the counter too.
    public func manualBlocks() async throws {
        let engine = try await defender {
            $0.lockOutByIPAndUsername = true
            $0.disableIPLockout = true
        }
        #expect(try await engine.block(ip: "10.9.9.9") == true)
        #expect(try await engine.block(ip: "10.9.9.9") == false)  // already blocked: no second event
        #expect(try await engine.login(ip: "10.9.9.9", username: "anyone", correctPassword: true) == .refused)
        #expect(try await engine.unblock(ip: "10.9.9.9") == true)
        #expect(try await engine.unblock(ip: "10.9.9.9") == false)
        #expect(try await engine.login(ip: "10.9.9.9", username: "anyone", correctPassword: true) == .success)
        try await engine.block(username: "  Mallory ", for: .seconds(60))
        #expect(try await engine.login(ip: "10.1.1.1", username: "MALLORY", correctPassword: true) == .refused)
        let state = try await engine.store.state(of: try engine.usernameKey("mallory"))
        #expect(state.block?.isManual == true)
        #expect(state.block?.remaining.map { $0 <= .seconds(60) && $0 > .seconds(50) } == true)
    }

    /// Blocks are listed in pages, each key once, without a full scan per page.
    public func listingPagesThroughBlocks() async throws {
        let engine = try await defender()
        for index in 0..<25 { try await engine.block(ip: "10.5.0.\(index)") }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await engine.store.blocks(of: .ip, after: cursor, limit: 10)
            #expect(page.blocks.count <= 10)
            seen += page.blocks.map(\.key.value)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(Set(seen).count == 25 && seen.count == 25)
        #expect(try await engine.allBlocks(of: .username).isEmpty)
    }

    /// Escalating cool-offs from the lockout history, the attempt cool-off, and permanent blocks.
    public func escalationAndExpiry() async throws {
        let engine = try await defender {
            $0.lockoutCooloffTimes = [.seconds(2), .seconds(4), .seconds(6)]
            $0.attemptCooloffTime = .seconds(600)
        }
        var retries: [Int?] = []
        for round in 0..<4 {
            let ip = "10.7.0.\(round)"  // a new IP each round: only the username escalates
            for _ in 0..<3 { _ = try await engine.login(ip: ip, username: "esc", correctPassword: false) }
            let attempt = LoginAttempt(ip: engine.resolver.client(IPAddress(ip)!), submittedUsername: "esc")
            retries.append(try await engine.recordFailure(attempt)?.retryAfterSeconds)
            try await engine.unblock(username: "esc")  // an unblock keeps the history
        }
        #expect(retries == [2, 4, 6, 6])

        // Attempt cool-off longer than the block: after the block lifts, one more failure re-blocks.
        let short = try await defender {
            $0.lockoutCooloffTimes = [.seconds(1)]
            $0.attemptCooloffTime = .seconds(600)
        }
        _ = try await short.run((1...4).map { _ in LoginStep("10.8.0.1", "gap", expect: .failure) })
        try await advance(.milliseconds(1_100))
        #expect(try await short.login(ip: "10.8.0.1", username: "gap", correctPassword: false) == .lockedOut)

        // Permanent: a zero cool-off never lifts by itself.
        let permanent = try await defender { $0.cooloffTime = .zero }
        _ = try await permanent.run((1...3).map { _ in LoginStep("10.8.0.2", "perm", expect: .failure) })
        let lockout = try await permanent.recordFailure(LoginAttempt(ip: permanent.resolver.client(IPAddress("10.8.0.2")!), submittedUsername: "perm"))
        #expect(lockout?.isPermanent == true)
        try await advance(.milliseconds(1_100))
        #expect(try await permanent.login(ip: "10.8.0.3", username: "perm", correctPassword: true) == .refused)
    }
}

extension AttemptStoreContract {
    /// The contract on fresh in-memory stores that share `clock`, which `advance` moves by hand.
    public static func memory(clock: ManualClock, capacity: Int = 10_000) -> AttemptStoreContract {
        AttemptStoreContract(makeStore: { MemoryAttemptStore(capacity: capacity, clock: clock) }, advance: { clock.advance(by: $0) })
    }
}
