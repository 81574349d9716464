import DefenderCore
import Testing

extension AttemptStoreContract {
    /// Every shared-range scenario (`DEFENDER_SHARED_IP_RANGES`, the built-in carrier-grade NAT range,
    /// `DEFENDER_SHARED_SPRAY_USERNAME_LIMIT`).
    public func runSharedRanges() async throws {
        try await anAttackerBehindASharedAddressLocksNoOneElse()
        try await guessingOneUsernameThereLocksTheUsernameAndThePair()
        try await anOperatorsBlockOfASharedAddressStillRefusesIt()
        try await sprayingFromASharedAddressBlocksItAtItsOwnLimit()
        try await aSuccessClearsItsPair()
        try await loginsWithoutAUsernameNeverLockTheSharedAddressForOthers()
        try await concurrentGuessesOnAPairGetNoExtraChecks()
    }

    /// From one address in 100.64.0.0/10 an attacker fails once on each of 10 usernames: no pair, no username and
    /// not the address reach a limit, and 5 other users behind the same address log in. Outside the shared ranges
    /// the same 10 failures lock the address at the 4th, as before.
    public func anAttackerBehindASharedAddressLocksNoOneElse() async throws {
        let engine = try await defender()
        for index in 0..<10 {
            #expect(try await engine.login(ip: "100.64.3.7", username: "guess\(index)", correctPassword: false) == .failure, "username \(index)")
        }
        for user in 0..<5 {
            #expect(try await engine.login(ip: "100.64.3.7", username: "member\(user)", correctPassword: true) == .success, "user \(user)")
        }
        #expect(try await engine.allBlocks(of: .ip).isEmpty)
        #expect(try await engine.allBlocks(of: .pair).isEmpty)

        var outside: [LoginResult] = []
        for index in 0..<5 { outside.append(try await engine.login(ip: "198.51.100.7", username: "guess\(index)", correctPassword: false)) }
        #expect(outside == [.failure, .failure, .failure, .lockedOut, .refused])
        #expect(try await engine.allBlocks(of: .ip).map(\.key.value) == ["198.51.100.7"])
    }

    /// Guessing one username from a shared address: the 4th failure locks the username (which every address then
    /// sees) and the pair, never the address; the metric and the newly blocked keys name the pair.
    public func guessingOneUsernameThereLocksTheUsernameAndThePair() async throws {
        let engine = try await defender()
        for _ in 0..<3 { #expect(try await engine.login(ip: "100.64.3.8", username: "victim", correctPassword: false) == .failure) }
        let attempt = engine.attempt(ip: engine.resolver.client(IPAddress("100.64.3.8")!), username: "victim")
        #expect(attempt.ipKey.description == "pair:100.64.3.8|victim")
        let result = try await engine.recordFailureDetails(attempt)
        #expect(result.lockout != nil)
        #expect(result.newlyBlocked.map(\.description) == ["pair:100.64.3.8|victim", "username:victim"])
        #expect(try await engine.allBlocks(of: .pair).map(\.key.value) == ["100.64.3.8|victim"])
        #expect(try await engine.allBlocks(of: .ip).isEmpty)
        #expect(try await engine.login(ip: "100.64.3.8", username: "neighbour", correctPassword: true) == .success)
        #expect(try await engine.login(ip: "203.0.113.9", username: "victim", correctPassword: true) == .refused)
        // The operator lifts the pair and the username.
        #expect(try await engine.unblock(.pair(address: try engine.ipKey("100.64.3.8"), username: try engine.usernameKey("victim"))))
        try await engine.unblock(username: "victim")
        #expect(try await engine.login(ip: "100.64.3.8", username: "victim", correctPassword: true) == .success)
    }

    /// An operator's block of a shared address refuses everyone there (it is the address, not a pair), and its
    /// unblock lets them in again.
    public func anOperatorsBlockOfASharedAddressStillRefusesIt() async throws {
        let engine = try await defender()
        #expect(try await engine.login(ip: "100.64.3.9", username: "member", correctPassword: true) == .success)
        try await engine.block(ip: "100.64.3.9")
        let lockout = try await engine.lockout(ip: engine.resolver.client(IPAddress("100.64.3.9")!), username: "member")
        #expect(lockout?.keys.map(\.description) == ["ip:100.64.3.9"])
        #expect(try await engine.login(ip: "100.64.3.9", username: "member", correctPassword: true) == .refused)
        try await engine.unblock(ip: "100.64.3.9")
        #expect(try await engine.login(ip: "100.64.3.9", username: "member", correctPassword: true) == .success)
    }

    /// With `DEFENDER_SHARED_SPRAY_USERNAME_LIMIT=4`, the 5th distinct failing username from a shared address
    /// blocks the address as a whole (spraying); an ordinary address keeps `DEFENDER_SPRAY_USERNAME_LIMIT` (off).
    public func sprayingFromASharedAddressBlocksItAtItsOwnLimit() async throws {
        let engine = try await defender { $0.sharedSprayUsernameLimit = 4 }
        for index in 0..<4 {
            #expect(try await engine.login(ip: "100.64.4.1", username: "spray\(index)", correctPassword: false) == .failure)
        }
        let attempt = engine.attempt(ip: engine.resolver.client(IPAddress("100.64.4.1")!), username: "spray4")
        let result = try await engine.recordFailureDetails(attempt)
        #expect(result.newlyBlocked.map(\.description) == ["ip:100.64.4.1"])
        #expect(result.lockout?.keys.map(\.description) == ["ip:100.64.4.1"])
        // The same failure blocking the username too: the lockout names both (its Retry-After is the later).
        let crossing = try await defender { $0.sharedSprayUsernameLimit = 1 }
        _ = try await crossing.login(ip: "100.64.4.2", username: "first", correctPassword: false)
        for index in 0..<3 { _ = try await crossing.login(ip: "198.51.100.\(index + 10)", username: "both", correctPassword: false) }
        let twice = try await crossing.recordFailureDetails(crossing.attempt(ip: crossing.resolver.client(IPAddress("100.64.4.2")!), username: "both"))
        #expect(twice.lockout?.keys.map(\.description) == ["ip:100.64.4.2", "username:both"])
        #expect(try await engine.login(ip: "100.64.4.1", username: "member", correctPassword: true) == .refused)
        #expect(try await engine.allBlocks(of: .ip).map(\.key.value) == ["100.64.4.1"])
    }

    /// Under `DEFENDER_SUCCESS_RESET=own` and `all`, a success clears its pair (all of whose failures are the
    /// username's): two typos and a success, again and again, never lock it.
    public func aSuccessClearsItsPair() async throws {
        for reset in [SuccessReset.own, .all] {
            let engine = try await defender { $0.successReset = reset }
            for round in 0..<3 {
                for _ in 0..<2 {
                    #expect(try await engine.login(ip: "100.64.5.1", username: "typist", correctPassword: false) == .failure, "\(reset) \(round)")
                }
                #expect(try await engine.login(ip: "100.64.5.1", username: "typist", correctPassword: true) == .success, "\(reset) \(round)")
            }
            #expect(try await engine.store.state(of: .pair(address: try engine.ipKey("100.64.5.1"), username: try engine.usernameKey("typist"))).failures == 0)
        }
    }

    /// 20 wrong passwords at once for one username from one shared address: its pair admits exactly the checks
    /// the same requests would get one after another (3 failures and the lockout).
    public func concurrentGuessesOnAPairGetNoExtraChecks() async throws {
        let engine = try await defender()
        let (results, checks) = try await Self.storm(engine: engine, count: 20) { _ in ("100.64.6.1", "stormed-pair", false) }
        #expect(checks == 4, "\(results)")
        #expect(results[.failure] == 3 && results[.lockedOut] == 1 && results[.refused] == 16, "\(results)")
    }

    /// Logins without a username from a shared address have no pair: they count on the address, and the 4th locks
    /// the address for such logins only; its automatic block never refuses a pair, so nobody there can lock the
    /// address for the others by leaving the username out. (Only an operator's or a spraying block does.)
    public func loginsWithoutAUsernameNeverLockTheSharedAddressForOthers() async throws {
        let engine = try await defender()
        var anonymous: [LoginResult] = []
        for _ in 0..<5 { anonymous.append(try await engine.login(ip: "100.64.7.1", username: nil, correctPassword: false)) }
        #expect(anonymous == [.failure, .failure, .failure, .lockedOut, .refused])
        #expect(try await engine.allBlocks(of: .ip).map(\.key.value) == ["100.64.7.1"])
        #expect(try await engine.login(ip: "100.64.7.1", username: "member", correctPassword: true) == .success)
        for _ in 0..<3 { #expect(try await engine.login(ip: "100.64.7.1", username: "other", correctPassword: false) == .failure) }
    }
}
