import DefenderCore
import Synchronization
import Testing

/// Race-free admission: what `AttemptStore/admit(ip:username:reservation:policy:)` must do in every mode.
extension AttemptStoreContract {
    /// Every admission scenario below.
    public func runAdmission() async throws {
        try await admissionAllowsTheSequentialChecksOnly()
        try await releaseAndOutcomesFreeSlots()
        try await reservationsLapse()
        try await expiredBlockAdmitsOneAtATime()
        try await andModeReservesPairs()
        try await disabledDimensionsReserveNothing()
        try await separateLimitsBoundEachKey()
        try await concurrentGuessesGetTheSequentialChecks()
        try await concurrentRightPasswordsFromOneIPAllGetIn()
    }

    /// A store and its policy, with helpers that speak in IP and username strings.
    struct Admitter {
        let engine: Defender
        var store: any AttemptStore { engine.store }

        func ip(_ text: String) -> DefenderKey { .ip(engine.resolver.client(IPAddress(text)!)) }
        func user(_ name: String?) -> DefenderKey? { name.flatMap(DefenderKey.username) }

        func admit(_ ip: String, _ user: String?) async throws -> (Admission, Reservation) {
            let reservation = Reservation()
            let answer = try await store.admit(ip: self.ip(ip), username: self.user(user), reservation: reservation, policy: engine.policy)
            return (answer, reservation)
        }

        func isAdmitted(_ ip: String, _ user: String?) async throws -> Reservation? {
            let (answer, reservation) = try await admit(ip, user)
            return answer == .admitted ? reservation : nil
        }

        func isBusy(_ ip: String, _ user: String?) async throws -> Bool { try await admit(ip, user).0 == .busy }

        func isLocked(_ ip: String, _ user: String?) async throws -> Bool {
            if case .locked = try await admit(ip, user).0 { return true }
            return false
        }

        func fail(_ ip: String, _ user: String?, _ reservation: Reservation) async throws -> Bool {
            try await store.recordFailure(ip: self.ip(ip), username: self.user(user), reservation: reservation, policy: engine.policy).lockout != nil
        }

        func succeed(_ ip: String, _ user: String?, _ reservation: Reservation) async throws {
            _ = try await store.recordSuccess(ip: self.ip(ip), username: self.user(user), reservation: reservation, policy: engine.policy)
        }

        func release(_ ip: String, _ user: String?, _ reservation: Reservation) async throws {
            try await store.release(ip: self.ip(ip), username: self.user(user), reservation: reservation)
        }
    }

    func admitter(_ configure: (inout DefenderConfiguration) -> Void = { _ in }) async throws -> Admitter {
        Admitter(engine: try await defender(configure))
    }

    /// Limit 3 and one username from many IPs: four checks go ahead (failures 1–3 and the crossing 4th), the
    /// fifth waits; once the four are recorded it is refused.
    public func admissionAllowsTheSequentialChecksOnly() async throws {
        let a = try await admitter()
        var held: [(String, Reservation)] = []
        for index in 0..<4 {
            let ip = "10.0.0.\(index)"
            let reservation = try #require(try await a.isAdmitted(ip, "victim"), "check \(index + 1) must be admitted")
            held.append((ip, reservation))
        }
        #expect(try await a.isBusy("10.0.1.1", "victim"))
        #expect(try await a.isBusy("10.0.1.2", "VICTIM "))
        var lockouts = 0
        for (ip, reservation) in held where try await a.fail(ip, "victim", reservation) { lockouts += 1 }
        #expect(lockouts == 1)
        #expect(try await a.isLocked("10.0.1.1", "victim"))
        #expect(try await a.isAdmitted("10.0.1.1", "someone-else") != nil)
    }

    /// Released, succeeded and failed checks give their slots back; a failure also uses up allowance.
    public func releaseAndOutcomesFreeSlots() async throws {
        let a = try await admitter()
        let ip = "192.0.2.7"
        var held: [Reservation] = []
        for index in 0..<4 { held.append(try #require(try await a.isAdmitted(ip, "user\(index)"))) }
        #expect(try await a.isBusy(ip, "user4"))
        try await a.release(ip, "user0", held[0])
        let fifth = try #require(try await a.isAdmitted(ip, "user4"))
        #expect(try await a.isBusy(ip, "user5"))
        try await a.succeed(ip, "user1", held[1])
        let sixth = try #require(try await a.isAdmitted(ip, "user5"))
        #expect(try await a.isBusy(ip, "user6"))
        // One failure on the IP: 1 failure + 3 in flight could reach the 4th failure, so still busy.
        #expect(try await a.fail(ip, "user2", held[2]) == false)
        #expect(try await a.isBusy(ip, "user6"))
        try await a.release(ip, "user3", held[3])
        #expect(try await a.isAdmitted(ip, "user6") != nil)
        try await a.release(ip, "user4", fifth)
        try await a.release(ip, "user5", sixth)
        try await a.release(ip, "user5", sixth)  // twice: ignored
    }

    /// Slots of an instance that died lapse after the reservation TTL.
    public func reservationsLapse() async throws {
        let a = try await admitter { $0.reservationTTL = .seconds(1) }
        for index in 0..<4 { #expect(try await a.isAdmitted("10.1.0.\(index)", "crashy") != nil) }
        #expect(try await a.isBusy("10.1.1.1", "crashy"))
        try await advance(.milliseconds(1100))
        #expect(try await a.isAdmitted("10.1.1.1", "crashy") != nil)
    }

    /// A block that lapsed while its counter lives on: one check at a time, as the next failure re-blocks.
    public func expiredBlockAdmitsOneAtATime() async throws {
        let a = try await admitter {
            $0.cooloffTime = .seconds(1)
            $0.attemptCooloffTime = .seconds(600)
            $0.disableIPLockout = true
        }
        for index in 0..<4 {
            let reservation = try #require(try await a.isAdmitted("10.2.0.\(index)", "slow"))
            _ = try await a.fail("10.2.0.\(index)", "slow", reservation)
        }
        #expect(try await a.isLocked("10.2.1.1", "slow"))
        try await advance(.milliseconds(1100))
        let first = try #require(try await a.isAdmitted("10.2.1.1", "slow"))
        #expect(try await a.isBusy("10.2.1.2", "slow"))
        #expect(try await a.fail("10.2.1.1", "slow", first))
        #expect(try await a.isLocked("10.2.1.2", "slow"))
    }

    /// AND mode: only the IP–username pair locks, so a fresh IP or a fresh username is never made to wait.
    public func andModeReservesPairs() async throws {
        let a = try await admitter { $0.lockOutByIPAndUsername = true }
        for _ in 0..<4 { #expect(try await a.isAdmitted("10.3.0.1", "pair") != nil) }
        #expect(try await a.isBusy("10.3.0.1", "pair"))
        #expect(try await a.isAdmitted("10.3.0.2", "pair") != nil)
        #expect(try await a.isAdmitted("10.3.0.1", "other") != nil)
    }

    /// A disabled dimension neither locks nor makes anyone wait.
    public func disabledDimensionsReserveNothing() async throws {
        let noIP = try await admitter { $0.disableIPLockout = true }
        for index in 0..<10 { #expect(try await noIP.isAdmitted("10.4.0.1", "office\(index)") != nil) }
        for _ in 0..<4 { #expect(try await noIP.isAdmitted("10.4.0.2", "one") != nil) }
        #expect(try await noIP.isBusy("10.4.0.3", "one"))

        let neither = try await admitter {
            $0.disableIPLockout = true
            $0.disableUsernameLockout = true
        }
        for _ in 0..<10 { #expect(try await neither.isAdmitted("10.4.0.1", "free") != nil) }

        let noUser = try await admitter { $0.disableUsernameLockout = true }
        for index in 0..<10 { #expect(try await noUser.isAdmitted("10.4.1.\(index)", "shared") != nil) }
        for index in 0..<4 { #expect(try await noUser.isAdmitted("10.4.2.1", "u\(index)") != nil) }
        #expect(try await noUser.isBusy("10.4.2.1", "u9"))
        // No username: only the IP reserves.
        let anonymous = try await admitter()
        for _ in 0..<4 { #expect(try await anonymous.isAdmitted("10.4.3.1", nil) != nil) }
        #expect(try await anonymous.isBusy("10.4.3.1", nil))
    }

    /// Each key is bounded by its own limit.
    public func separateLimitsBoundEachKey() async throws {
        let a = try await admitter {
            $0.loginFailureLimitIP = 1
            $0.loginFailureLimitUsername = 5
        }
        for index in 0..<2 { #expect(try await a.isAdmitted("10.5.0.1", "n\(index)") != nil) }
        #expect(try await a.isBusy("10.5.0.1", "n9"))
        for index in 0..<6 { #expect(try await a.isAdmitted("10.5.1.\(index)", "many") != nil) }
        #expect(try await a.isBusy("10.5.2.1", "many"))
    }

    /// 100 wrong passwords at once for one username from 100 IPs, through the engine: exactly the sequential
    /// outcome — 3 failures, 1 lockout at the crossing check, 96 refused — and 4 password checks.
    public func concurrentGuessesGetTheSequentialChecks() async throws {
        let engine = try await defender()
        let (results, checks) = try await Self.storm(engine: engine, count: 100) { index in ("198.51.100.\(index)", "victim", false) }
        #expect(checks == 4)
        #expect(results[.failure] == 3 && results[.lockedOut] == 1 && results[.refused] == 96, "\(results)")
    }

    /// 40 right passwords at once for 40 users from one IP: all get in (the excess waits, nobody is refused).
    public func concurrentRightPasswordsFromOneIPAllGetIn() async throws {
        let engine = try await defender()
        let (results, checks) = try await Self.storm(engine: engine, count: 40) { index in ("192.0.2.50", "staff\(index)", true) }
        #expect(results[.success] == 40 && checks == 40, "\(results)")
    }

    /// Runs `count` logins at once (released together), each holding its password check for a moment.
    /// - Returns: the results by kind, and how many password checks ran.
    public static func storm(
        engine: Defender, count: Int, pause: Duration = .milliseconds(2),
        _ request: @escaping @Sendable (Int) -> (ip: String, username: String, correct: Bool)
    ) async throws -> ([LoginResult: Int], Int) {
        let gate = StartGate(parties: count)
        let checks = SharedTally()
        let results = try await withThrowingTaskGroup(of: LoginResult.self) { group in
            for index in 0..<count {
                group.addTask {
                    let (ip, username, correct) = request(index)
                    await gate.arrive()
                    switch try await engine.check(ip: engine.resolver.client(IPAddress(ip)!), username: username) {
                    case .locked:
                        return .refused
                    case .allowed(let attempt):
                        checks.value.add(1, ordering: .relaxed)
                        try await Task.sleep(for: pause)  // the password check
                        if correct {
                            try await engine.recordSuccess(attempt)
                            return .success
                        }
                        return try await engine.recordFailure(attempt) == nil ? .failure : .lockedOut
                    }
                }
            }
            return try await group.reduce(into: [LoginResult: Int]()) { $0[$1, default: 0] += 1 }
        }
        return (results, checks.value.load(ordering: .relaxed))
    }
}

/// A shared count for concurrent test tasks (not `Counter`, which would shadow swift-metrics' in a test file that
/// imports both).
final class SharedTally: Sendable {
    let value = Atomic<Int>(0)
}
