import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Testing

/// The memory store and the Redis store are two implementations of one set of rules (one in Swift, one in Lua):
/// the same random sequence of admit / fail / succeed / release / check / block / unblock / state / list, over a
/// few keys and every mode, must give the same answer from both at every step. Seeded, so a failure replays.
@Suite(.serialized) struct StoreDifferentialTests {
    static let sequences = 1_500
    static let steps = 12

    /// Run twice: Redis alone, exactly as memory; and through the block cache, which refuses from the blocks this
    /// instance has seen. Then a refusal is the same decision, but it may name a subset of the keys and an earlier
    /// `Retry-After` (a second block it has not seen yet); everything else is still the same.
    @Test(arguments: [false, true])
    func memoryAndRedisAgreeOnRandomSequences(rememberBlocks: Bool) async throws {
        guard RedisServer.isAvailable else { return }
        // A server of its own, so that each sequence starts from FLUSHDB without touching other suites' keys.
        let server = try await RedisServer()
        defer { server.stop() }
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url))
        defer { Task { await client.shutdown() } }
        var random = SplitMix64(seed: 0xD1FF_5EED)
        var compared = 0
        let sequences = rememberBlocks ? Self.sequences / 3 : Self.sequences
        for sequence in 0..<sequences {
            _ = try await client.send(["FLUSHDB"])
            let policy = Self.randomPolicy(&random)
            var run = Run(
                policy: policy, memory: MemoryAttemptStore(clock: ManualClock()),
                redis: RedisAttemptStore(client: client, prefix: "diff", historyWindow: policy.historyWindow, rememberBlocks: rememberBlocks))
            for step in 0..<Self.steps {
                let operation = run.randomOperation(&random)
                let fromMemory = try await run.apply(operation, to: run.memory)
                let fromRedis = try await run.apply(operation, to: run.redis)
                run.trace.append("\(operation) → \(fromMemory)")
                compared += 1
                let blocked = rememberBlocks ? try await run.blockedKeys(operation) : []
                guard fromMemory == fromRedis || (rememberBlocks && Self.cachedRefusal(fromRedis, agreesWith: fromMemory, blocked: blocked)) else {
                    Issue.record("""
                        sequence \(sequence), step \(step): memory \(fromMemory), Redis \(fromRedis)
                        policy: \(policy)
                        \(run.trace.joined(separator: "\n"))
                        """)
                    return
                }
                run.settle(operation, fromMemory)
            }
        }
        #expect(compared == sequences * Self.steps)
    }

    /// `locked([k1, k2] retry=Ns)` (after an optional `locked ` for admissions) from the cache against the exact
    /// answer: the same decision, retry no later, and keys that are blocked: those the exact answer names, or others
    /// of the request's that are blocked too (`blocked`). The exact answer names only manual blocks when there is
    /// one, while the cache may know only the automatic block beside it (it never learns an operator's block).
    static func cachedRefusal(_ cached: String, agreesWith exact: String, blocked: Set<String>) -> Bool {
        func parse(_ answer: String) -> (head: String, keys: Set<String>, retry: Int?)? {
            guard let open = answer.range(of: "locked(["), let close = answer.range(of: "] retry="),
                let end = answer[close.upperBound...].firstIndex(of: ")")
            else { return nil }
            let keys = Set(answer[open.upperBound..<close.lowerBound].components(separatedBy: ", "))
            let retryText = answer[close.upperBound..<end]
            return (String(answer[..<open.lowerBound]), keys, retryText == "forever" ? nil : Int(retryText.dropLast()))
        }
        guard let cached = parse(cached), let exact = parse(exact), cached.head == exact.head else { return false }
        guard cached.keys.isSubset(of: exact.keys.union(blocked)) else { return false }
        guard let exactRetry = exact.retry else { return true }
        return cached.retry.map { $0 <= exactRetry } ?? false
    }

    /// A random configuration over every mode; lengths are whole multiples of 1,000 s (and reservations outlive
    /// the test), so Redis's clock, which moves while the memory store's stands still, cannot change an answer.
    static func randomPolicy(_ random: inout SplitMix64) -> LockoutPolicy {
        var configuration = DefenderConfiguration()
        configuration.loginFailureLimitIP = Int.random(in: 1...3, using: &random)
        configuration.loginFailureLimitUsername = Int.random(in: 1...3, using: &random)
        configuration.lockOutByIPAndUsername = Bool.random(using: &random)
        configuration.disableIPLockout = Int.random(in: 0..<5, using: &random) == 0
        configuration.disableUsernameLockout = Int.random(in: 0..<5, using: &random) == 0
        configuration.attemptCooloffTime = [.zero, .seconds(5_000)][Int.random(in: 0..<2, using: &random)]
        configuration.lockoutCooloffTimes = [
            [.seconds(1_000)], [.seconds(1_000), .seconds(2_000)], [.seconds(1_000), .zero], [.zero],
        ][Int.random(in: 0..<4, using: &random)]
        configuration.accessAttemptExpiration = [.seconds(86_400), .zero][Int.random(in: 0..<4, using: &random) == 0 ? 1 : 0]
        configuration.successReset = SuccessReset.choices[Int.random(in: 0..<3, using: &random)]
        configuration.sprayUsernameLimit = [0, 0, 1, 2][Int.random(in: 0..<4, using: &random)]
        configuration.sharedSprayUsernameLimit = [0, 0, 1, 2][Int.random(in: 0..<4, using: &random)]
        configuration.sprayWindow = .seconds(3_000)
        configuration.reservationTTL = .seconds(9_000)
        // The long window: off, or a limit a short sequence reaches (it is never below a counter's limit, 1 to 3).
        configuration.longWindowFailureLimit = [0, 1, 2, 4][Int.random(in: 0..<4, using: &random)]
        configuration.longWindow = .seconds(7_000)
        return LockoutPolicy(configuration)
    }
}

/// One sequence: the two stores, the reservations admitted and not yet settled, and what happened so far.
private struct Run {
    let policy: LockoutPolicy
    let memory: MemoryAttemptStore
    let redis: RedisAttemptStore
    var outstanding: [(ip: DefenderKey, username: DefenderKey?, reservation: Reservation)] = []
    var trace: [String] = []
    var nextReservation: UInt64 = 1

    static let ips = ["10.0.0.1", "10.0.0.2"].map { DefenderKey(kind: .ip, normalizedValue: $0) }
    static let usernames: [DefenderKey?] = ["alice", "bob", "carol"].map { DefenderKey(kind: .username, normalizedValue: $0) } + [nil]

    enum Operation: CustomStringConvertible {
        case check(DefenderKey, DefenderKey?)
        case admit(DefenderKey, DefenderKey?, Reservation)
        case fail(DefenderKey, DefenderKey?, Reservation?)
        case succeed(DefenderKey, DefenderKey?, Reservation?)
        case release(DefenderKey, DefenderKey?, Reservation)
        case block(DefenderKey, Duration?)
        case unblock(DefenderKey)
        case state(DefenderKey)
        case list(DefenderKey.Kind, limit: Int)

        var description: String {
            switch self {
            case .check(let ip, let user): "check(\(ip), \(user?.description ?? "-"))"
            case .admit(let ip, let user, let r): "admit(\(ip), \(user?.description ?? "-"), \(r))"
            case .fail(let ip, let user, let r): "fail(\(ip), \(user?.description ?? "-"), \(r?.description ?? "-"))"
            case .succeed(let ip, let user, let r): "succeed(\(ip), \(user?.description ?? "-"), \(r?.description ?? "-"))"
            case .release(let ip, let user, let r): "release(\(ip), \(user?.description ?? "-"), \(r))"
            case .block(let key, let duration): "block(\(key), \(duration.map { "\($0)" } ?? "forever"))"
            case .unblock(let key): "unblock(\(key))"
            case .state(let key): "state(\(key))"
            case .list(let kind, let limit): "list(\(kind), \(limit))"
            }
        }
    }

    mutating func randomOperation(_ random: inout SplitMix64) -> Operation {
        let address = Self.ips[Int.random(in: 0..<Self.ips.count, using: &random)]
        let username = Self.usernames[Int.random(in: 0..<Self.usernames.count, using: &random)]
        // A third of the requests with a username come from a shared address: their IP dimension is the pair.
        let ip = username.map { Int.random(in: 0..<3, using: &random) == 0 ? .pair(address: address, username: $0) : address } ?? address
        let anyKey = [ip, username ?? ip, address][Int.random(in: 0..<3, using: &random)]
        // Outcomes mostly settle an admitted request, as the engine does; sometimes they hold none.
        func settled() -> (DefenderKey, DefenderKey?, Reservation?) {
            guard !outstanding.isEmpty, Int.random(in: 0..<4, using: &random) > 0 else { return (ip, username, nil) }
            let held = outstanding[Int.random(in: 0..<outstanding.count, using: &random)]
            return (held.ip, held.username, held.reservation)
        }
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<10: return .check(ip, username)
        case 10..<32:
            defer { nextReservation += 1 }
            return .admit(ip, username, Reservation(value: nextReservation))
        case 32..<64:
            let (ip, username, reservation) = settled()
            return .fail(ip, username, reservation)
        case 64..<72:
            let (ip, username, reservation) = settled()
            return .succeed(ip, username, reservation)
        case 72..<77:
            guard let held = outstanding.first else { return .state(anyKey) }
            return .release(held.ip, held.username, held.reservation)
        case 77..<82: return .block(anyKey, [nil, .seconds(4_000), .seconds(7_000)][Int.random(in: 0..<3, using: &random)])
        case 82..<87: return .unblock(anyKey)
        case 87..<95: return .state(anyKey)
        default: return .list(DefenderKey.Kind.allCases[Int.random(in: 0..<3, using: &random)], limit: Int.random(in: 1...3, using: &random))
        }
    }

    /// The keys of a check's or an admission's request that the memory store (the exact answer) holds blocked.
    func blockedKeys(_ operation: Operation) async throws -> Set<String> {
        let keys: [DefenderKey?]
        switch operation {
        case .check(let ip, let username), .admit(let ip, let username, _): keys = [ip, ip.pairAddress, username]
        default: return []
        }
        var blocked: Set<String> = []
        for case let key? in keys where try await memory.state(of: key).block != nil { blocked.insert(key.description) }
        return blocked
    }

    /// Keeps the bookkeeping of reservations in step with what both stores did.
    mutating func settle(_ operation: Operation, _ outcome: String) {
        switch operation {
        case .admit(let ip, let username, let reservation) where outcome == "admitted":
            outstanding.append((ip, username, reservation))
        case .fail(_, _, let reservation?), .succeed(_, _, let reservation?), .release(_, _, let reservation):
            outstanding.removeAll { $0.reservation == reservation }
        default: break
        }
    }

    /// The store's answer, written so that the two stores' answers compare as strings: durations are rounded to
    /// 100 s (Redis counts down while the test runs; the memory store's clock stands still).
    func apply(_ operation: Operation, to store: some AttemptStore) async throws -> String {
        switch operation {
        case .check(let ip, let username):
            return try await Self.describe(store.check(ip: ip, username: username, policy: policy))
        case .admit(let ip, let username, let reservation):
            switch try await store.admit(ip: ip, username: username, reservation: reservation, policy: policy) {
            case .admitted: return "admitted"
            case .busy: return "busy"
            case .locked(let lockout): return "locked \(Self.describe(lockout))"
            }
        case .fail(let ip, let username, let reservation):
            let result = try await store.recordFailure(ip: ip, username: username, reservation: reservation, policy: policy)
            return "\(Self.describe(result.lockout)) new=\(result.newlyBlocked) long=\(result.longWindowBlocked) ip=\(result.ipFailures) user=\(result.usernameFailures)"
                + " ipLong=\(result.ipLongWindowFailures) userLong=\(result.usernameLongWindowFailures)"
        case .succeed(let ip, let username, let reservation):
            return "unblocked \(try await store.recordSuccess(ip: ip, username: username, reservation: reservation, policy: policy))"
        case .release(let ip, let username, let reservation):
            try await store.release(ip: ip, username: username, reservation: reservation)
            return "released"
        case .block(let key, let duration):
            return "new block \(try await store.block(key, for: duration))"
        case .unblock(let key):
            return "was blocked \(try await store.unblock(key))"
        case .state(let key):
            let state = try await store.state(of: key)
            return "failures=\(state.failures) lockouts=\(state.lockoutCount) block=\(state.block.map(Self.describe) ?? "none")"
        case .list(let kind, let limit):
            // Every page, so that paging itself is compared too.
            var pages: [String] = []
            var cursor: String?
            repeat {
                let page = try await store.blocks(of: kind, after: cursor, limit: limit)
                pages.append(page.blocks.map(Self.describe).joined(separator: ","))
                cursor = page.nextCursor
            } while cursor != nil && pages.count < 10
            return "pages [\(pages.joined(separator: " | "))]"
        }
    }

    static func describe(_ lockout: Lockout?) -> String {
        guard let lockout else { return "open" }
        return "locked(\(lockout.keys) retry=\(rounded(lockout.retryAfter)))"
    }

    static func describe(_ block: BlockInfo) -> String {
        "\(block.key) \(rounded(block.remaining)) manual=\(block.isManual) lockouts=\(block.lockoutCount)"
    }

    static func rounded(_ duration: Duration?) -> String {
        guard let duration else { return "forever" }
        return "\((duration.components.seconds + 50) / 100 * 100)s"
    }
}
