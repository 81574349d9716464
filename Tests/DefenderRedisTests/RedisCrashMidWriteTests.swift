import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Synchronization
import Testing

/// redis-server killed (SIGKILL) while logins are being counted, then started again on its append-only file, as
/// an operator's restart after a crash would.
///
/// Each step of the store is one script, whose writes Redis puts in the file as one `MULTI`/`EXEC` block before it
/// answers, and which the client never sends twice (it runs a script again only after `NOSCRIPT` or `READONLY`,
/// when it did not run). So what comes back is whole steps: no failure counted on an IP and not on its username,
/// nor the reverse, none counted twice, and none the store acknowledged lost. Once back, the same store instance
/// counts on: its connections come back, and its scripts, gone from the new server's cache, are loaded again.
///
/// A killed process leaves what it wrote in the kernel's page cache, so this is a process crash, not a machine's:
/// `appendfsync always` (set here, as production should) is what would keep the acknowledged steps through a
/// power loss, which a test cannot make.
@Suite(.serialized) struct RedisCrashMidWriteTests {
    /// The outcome of one storm, per pair of (IP, username) index.
    struct Tally {
        var acknowledged: [Int: Int] = [:]
        /// Failures whose answer never came: counted or not, either is right.
        var unknown: [Int: Int] = [:]
    }

    /// What the storm's tasks share.
    final class StormState: Sendable {
        let tally = Mutex(Tally())
        let acknowledged = Atomic<Int>(0)
        /// A call that reconnects instead of failing would keep its task going: all stop once the server is back.
        let stopped = Atomic<Bool>(false)
    }

    static let ips = ["10.77.0.1", "10.77.0.2", "10.77.0.3"]
    static let usernames = ["ada", "grace", "linus"]

    /// Several crashes, each at a moment drawn from a fixed seed, so that the kill lands at different points of
    /// the scripts' writes; every round checks the invariants on the file the kill left.
    @Test func aCrashMidStormLeavesWholeStepsAndEveryAcknowledgedOne() async throws {
        guard RedisServer.isAvailable else { return }
        var server = try await RedisServer(["--appendonly", "yes", "--appendfsync", "always"])
        defer { server.stop() }
        let client = RedisClient(configuration: Self.quickToReconnect(RedisConfiguration(host: "127.0.0.1", port: server.port)))
        defer { Task { await client.shutdown() } }
        let store = RedisAttemptStore(client: client, prefix: "crash-\(UUID().uuidString)")
        var settings = DefenderConfiguration()
        // Nothing locks: every failure is counted, so the counters are the record of every step that landed.
        settings.loginFailureLimit = 1_000_000
        settings.longWindowFailureLimit = 0
        let engine = Defender(configuration: settings, store: store)

        var random = SplitMix64(seed: 0xC4A5_0001)
        var totals = Tally()
        for round in 0..<4 {
            let crashAfter = 20 + Int(random.next() % 180)
            let tally = try await storm(engine, crashAfter: crashAfter, seed: random.next()) { server = try await server.restart() }
            for (pair, count) in tally.acknowledged { totals.acknowledged[pair, default: 0] += count }
            for (pair, count) in tally.unknown { totals.unknown[pair, default: 0] += count }
            try await expectWholeSteps(engine, store: store, totals: totals, round: round)
        }

        // Each kill came after its round's acknowledged steps. Whether a call was in flight at that moment depends on
        // the scheduling (run alone, rounds have lost calls in flight; under the whole suite's load the workers are
        // often between calls), so it is not asserted.
        #expect(totals.acknowledged.values.reduce(0, +) >= 80)

        // Back to normal: the next failure lands on both of its keys.
        let before = try await store.state(of: engine.usernameKey(Self.usernames[0])).failures
        #expect(try await engine.login(ip: Self.ips[0], username: Self.usernames[0], correctPassword: false) == .failure)
        #expect(try await store.state(of: engine.usernameKey(Self.usernames[0])).failures == before + 1)
    }

    /// `configuration` reconnecting within a fraction of a second once the server is back, and giving up on a
    /// command after two seconds: a crash test waits for neither.
    static func quickToReconnect(_ configuration: RedisConfiguration) -> RedisConfiguration {
        var configuration = configuration
        configuration.initialBackoff = .milliseconds(20)
        configuration.maximumBackoff = .milliseconds(100)
        configuration.connectTimeout = .milliseconds(300)
        configuration.commandTimeout = .seconds(2)
        return configuration
    }

    /// Eight tasks record failures for random pairs until the server dies, which happens once `crashAfter` of
    /// them were acknowledged: `crash` kills it and starts it again on its file; then the tasks stop.
    func storm(_ engine: Defender, crashAfter: Int, seed: UInt64, crash: () async throws -> Void) async throws -> Tally {
        let state = StormState()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var random = SplitMix64(seed: seed &+ UInt64(worker))
                    while !state.stopped.load(ordering: .relaxed) {
                        let pair = Int(random.next() % UInt64(Self.ips.count * Self.usernames.count))
                        let (ip, username) = (Self.ips[pair / Self.usernames.count], Self.usernames[pair % Self.usernames.count])
                        do {
                            let result = try await engine.login(ip: ip, username: username, correctPassword: false)
                            #expect(result == .failure)
                            state.tally.withLock { $0.acknowledged[pair, default: 0] += 1 }
                            state.acknowledged.add(1, ordering: .relaxed)
                        } catch {
                            // The server is gone: this failure may or may not have landed. The task's part ends.
                            state.tally.withLock { $0.unknown[pair, default: 0] += 1 }
                            return
                        }
                    }
                }
            }
            #expect(try await eventually(within: .seconds(30), every: .milliseconds(1)) {
                state.acknowledged.load(ordering: .relaxed) >= crashAfter
            })
            try await crash()
            state.stopped.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        return state.tally.withLock { $0 }
    }

    /// Per IP and per username: the failures counted are at least those acknowledged and at most those
    /// attempted, and the IPs' sum equals the usernames' sum (each step counted on both, or on neither).
    func expectWholeSteps(_ engine: Defender, store: RedisAttemptStore, totals: Tally, round: Int) async throws {
        // The store may need a moment to reconnect to the restarted server.
        var ipFailures: [Int] = []
        var usernameFailures: [Int] = []
        #expect(try await eventually(within: .seconds(10), every: .milliseconds(50)) {
            do {
                ipFailures = []
                usernameFailures = []
                for ip in Self.ips { ipFailures.append(try await store.state(of: engine.ipKey(ip)).failures) }
                for name in Self.usernames { usernameFailures.append(try await store.state(of: engine.usernameKey(name)).failures) }
                return true
            } catch {
                return false
            }
        })
        let width = Self.usernames.count
        for index in Self.ips.indices {
            let pairs = (0..<width).map { index * width + $0 }
            let acknowledged = pairs.reduce(0) { $0 + totals.acknowledged[$1, default: 0] }
            let unknown = pairs.reduce(0) { $0 + totals.unknown[$1, default: 0] }
            #expect((acknowledged...(acknowledged + unknown)).contains(ipFailures[index]), "round \(round), IP \(index)")
        }
        for index in Self.usernames.indices {
            let pairs = Self.ips.indices.map { $0 * width + index }
            let acknowledged = pairs.reduce(0) { $0 + totals.acknowledged[$1, default: 0] }
            let unknown = pairs.reduce(0) { $0 + totals.unknown[$1, default: 0] }
            #expect((acknowledged...(acknowledged + unknown)).contains(usernameFailures[index]), "round \(round), username \(index)")
        }
        #expect(ipFailures.reduce(0, +) == usernameFailures.reduce(0, +), "round \(round): \(ipFailures) against \(usernameFailures)")
    }
}
