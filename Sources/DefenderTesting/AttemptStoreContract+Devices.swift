import DefenderCore
import Testing

extension AttemptStoreContract {
    /// A secret key for the device-cookie scenarios (test use only).
    public static let deviceSecret = "contract-secret-key-0123456789-abcdefghij"

    /// Every device-cookie scenario (`DEFENDER_SECRET_KEY`).
    public func runDeviceCookies() async throws {
        try await aTrustedDeviceIsNotRefusedByAUsernameLockout()
        try await guessesThroughADeviceLockTheDeviceAlone()
        try await aTrustedDeviceStillMeetsIPBlocks()
        try await concurrentGuessesThroughADeviceGetNoExtraChecks()
        try await anOperatorsBlockStopsTrustedDevices()
        try await aStolenCookieGetsNoMoreGuessesPerLongWindow()
    }

    /// A stolen cookie against a long window (limit 6 in 60 s; counters forget after a second): three guesses, a
    /// pause, three more — the device's counter never reaches its limit — and the 7th guess within the window
    /// locks the device by its long window, as it would a username; the username itself stays open. A cookie,
    /// which outlives its owner's next login, thus buys no more guesses per window than no cookie does.
    public func aStolenCookieGetsNoMoreGuessesPerLongWindow() async throws {
        let (engine, cookies) = try await deviceEngine(Self.slow)
        let alice = try #require(DefenderKey.username("alice"))
        let stolen = cookies.issue(for: alice)
        var guesses: [LoginResult] = []
        for round in 0..<2 {
            for attempt in 0..<3 {
                guesses.append(try await engine.login(ip: "10.23.\(round).\(attempt)", username: "alice", deviceCookie: stolen, correctPassword: false))
            }
            try await advance(.milliseconds(1_100))
        }
        guesses.append(try await engine.login(ip: "10.23.9.1", username: "alice", deviceCookie: stolen, correctPassword: false))
        #expect(guesses == Array(repeating: .failure, count: 6) + [.lockedOut], "\(guesses)")
        #expect(try await engine.allBlocks(of: .device).count == 1)
        #expect(try await engine.allBlocks(of: .username).isEmpty)
        #expect(try await engine.store.state(of: alice).failures == 0)
        // Her own browser, another device, still gets in.
        #expect(try await engine.login(ip: "192.0.2.90", username: "alice", deviceCookie: cookies.issue(for: alice), correctPassword: true) == .success)
    }

    /// A device cookie spares its owner the lockouts failed logins cause, not an operator's block: once an admin
    /// blocks alice, her cookie (or a thief's copy of it) gets nothing; unblocked, it is trusted again.
    public func anOperatorsBlockStopsTrustedDevices() async throws {
        let (engine, cookies) = try await deviceEngine()
        let cookie = cookies.issue(for: try #require(DefenderKey.username("alice")))
        #expect(try await engine.login(ip: "192.0.2.80", username: "alice", deviceCookie: cookie, correctPassword: true) == .success)
        #expect(try await engine.block(username: "alice"))
        #expect(try await engine.login(ip: "192.0.2.81", username: "alice", deviceCookie: cookie, correctPassword: true) == .refused)
        #expect(try await engine.lockout(ip: engine.resolver.client(IPAddress("192.0.2.82")!), username: "alice", deviceCookieValues: [cookie]) != nil)
        #expect(try await engine.unblock(username: "alice"))
        #expect(try await engine.login(ip: "192.0.2.83", username: "alice", deviceCookie: cookie, correctPassword: true) == .success)
    }

    func deviceEngine(_ configure: (inout DefenderConfiguration) -> Void = { _ in }) async throws -> (Defender, DeviceCookies) {
        let engine = try await defender {
            $0.secretKeys = [DefenderSecret(Self.deviceSecret)]
            configure(&$0)
        }
        return (engine, try #require(engine.deviceCookies))
    }

    /// A botnet (four addresses) locks alice's username; a client with her right password and no cookie, bob's
    /// cookie, or an altered cookie is refused; her browser's cookie gets in from a new address, more than once,
    /// and the username stays locked for everyone else.
    public func aTrustedDeviceIsNotRefusedByAUsernameLockout() async throws {
        let (engine, cookies) = try await deviceEngine()
        let alice = try #require(DefenderKey.username("alice"))
        let hers = cookies.issue(for: alice)
        let bobs = cookies.issue(for: try #require(DefenderKey.username("bob")))
        var botnet: [LoginResult] = []
        for bot in 1...4 { botnet.append(try await engine.login(ip: "198.51.100.\(bot)", username: "alice", correctPassword: false)) }
        #expect(botnet == [.failure, .failure, .failure, .lockedOut])

        #expect(try await engine.login(ip: "192.0.2.50", username: "alice", correctPassword: true) == .refused)
        #expect(try await engine.login(ip: "192.0.2.51", username: "alice", deviceCookie: bobs, correctPassword: true) == .refused)
        var altered = Array(hers.utf8)
        altered[altered.count - 3] = altered[altered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(try await engine.login(ip: "192.0.2.52", username: "alice", deviceCookie: String(decoding: altered, as: UTF8.self), correctPassword: true) == .refused)

        #expect(try await engine.login(ip: "192.0.2.60", username: "alice", deviceCookie: hers, correctPassword: true) == .success)
        #expect(try await engine.login(ip: "192.0.2.61", username: " Alice ", deviceCookie: hers, correctPassword: true) == .success)
        #expect(try await engine.allBlocks(of: .username).map(\.key.value) == ["alice"])
        #expect(try await engine.login(ip: "192.0.2.62", username: "alice", correctPassword: true) == .refused)
    }

    /// Failures through a device count on the device, not the username: three guesses (from three addresses, so
    /// no address reaches its limit) leave alice's counter untouched; the fourth locks the device alone, which is
    /// then judged like any other client (let in while alice is not locked, refused once she is).
    public func guessesThroughADeviceLockTheDeviceAlone() async throws {
        let (engine, cookies) = try await deviceEngine()
        let alice = try #require(DefenderKey.username("alice"))
        let stolen = cookies.issue(for: alice)
        var guesses: [LoginResult] = []
        for index in 1...4 { guesses.append(try await engine.login(ip: "203.0.113.\(index)", username: "alice", deviceCookie: stolen, correctPassword: false)) }
        #expect(guesses == [.failure, .failure, .failure, .lockedOut])
        #expect(try await engine.allBlocks(of: .device).count == 1)
        #expect(try await engine.allBlocks(of: .username).isEmpty)
        #expect(try await engine.store.state(of: alice).failures == 0)

        // The locked device is an untrusted client now: its failure counts on alice.
        #expect(try await engine.login(ip: "203.0.113.9", username: "alice", deviceCookie: stolen, correctPassword: false) == .failure)
        #expect(try await engine.store.state(of: alice).failures == 1)
        for bot in 1...3 { _ = try await engine.login(ip: "198.51.100.\(bot)", username: "alice", correctPassword: false) }
        #expect(try await engine.login(ip: "203.0.113.10", username: "alice", deviceCookie: stolen, correctPassword: true) == .refused)
        // Her own browser, another device, is not locked.
        #expect(try await engine.login(ip: "192.0.2.70", username: "alice", deviceCookie: cookies.issue(for: alice), correctPassword: true) == .success)
    }

    /// A trusted device is spared the username's lockout only: a blocked address still refuses it, and with
    /// username lockouts off (nothing to spare) or no secret key, a cookie changes nothing.
    public func aTrustedDeviceStillMeetsIPBlocks() async throws {
        let (engine, cookies) = try await deviceEngine()
        let alice = try #require(DefenderKey.username("alice"))
        for index in 1...4 { _ = try await engine.login(ip: "203.0.113.77", username: "other\(index)", correctPassword: false) }
        #expect(try await engine.login(ip: "203.0.113.77", username: "alice", deviceCookie: cookies.issue(for: alice), correctPassword: true) == .refused)

        let (noUsernameLockout, its) = try await deviceEngine { $0.disableUsernameLockout = true }
        let check = try await noUsernameLockout.check(
            ip: noUsernameLockout.resolver.client(IPAddress("192.0.2.80")!), username: "alice", deviceCookieValues: [its.issue(for: alice)])
        guard case .allowed(let attempt) = check else {
            Issue.record("refused: \(check)")
            return
        }
        #expect(attempt.deviceKey == nil)
        try await noUsernameLockout.release(attempt)
        #expect(try await defender().deviceCookies == nil)
    }

    /// Twelve guesses at once through one device (from twelve addresses): admission holds a slot on the device, so
    /// no more passwords are checked than the device's limit before it locks, as for a username.
    public func concurrentGuessesThroughADeviceGetNoExtraChecks() async throws {
        let (engine, cookies) = try await deviceEngine()
        let stolen = cookies.issue(for: try #require(DefenderKey.username("alice")))
        let results = try await withThrowingTaskGroup(of: LoginResult.self) { group in
            for index in 1...12 {
                group.addTask { try await engine.login(ip: "203.0.113.\(100 + index)", username: "alice", deviceCookie: stolen, correctPassword: false) }
            }
            return try await group.reduce(into: [LoginResult]()) { $0.append($1) }
        }
        // Three ordinary failures, the one that locks the device, and then the device is judged untrusted: those
        // count on alice, who locks after her own three.
        let checked = results.filter { $0 != .refused }.count
        #expect(results.filter { $0 == .failure }.count >= 3 && checked <= 3 + 1 + 3 + 1, "\(results)")
        #expect(try await engine.allBlocks(of: .device).count == 1)
    }
}
