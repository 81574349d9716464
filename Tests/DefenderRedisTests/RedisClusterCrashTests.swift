import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Testing

/// Redis Cluster with the node that holds the store's slot killed (SIGKILL) while logins go on, then started again
/// on its append-only file and `nodes.conf`, as an operator's restart after a crash would be. Every key of the
/// store lives in that one slot, so this is the whole shared store gone while the rest of the cluster answers
/// (`CLUSTERDOWN`, or a refused connection to the slot's owner).
@Suite(.serialized) struct RedisClusterCrashTests {
    static let arguments = ["--appendonly", "yes", "--appendfsync", "always"]

    /// The index of the node that owns `prefix`'s slot.
    static func owner(of prefix: String, in cluster: TestRedisCluster) async throws -> Int {
        let slot = Int64(ClusterSlot.of("{\(prefix)}"))
        for (index, node) in cluster.nodes.enumerated() {
            let slots = try await serverCommand(node.port, ["CLUSTER", "SLOTS"]).elements ?? []
            let local = slots.contains { range in
                guard let bounds = range.elements, bounds.count >= 3, let low = bounds[0].int, let high = bounds[1].int,
                    let port = bounds[2].elements?[1].int
                else { return false }
                return port == Int64(node.port) && (low...high).contains(slot)
            }
            if local { return index }
        }
        throw DefenderError(.storeUnavailable, "no node owns slot \(slot)")
    }

    /// Runs `body` with a three-primary cluster whose nodes keep an append-only file, and a store on it with a
    /// fresh prefix (quick reconnects, short timeouts); stops both after.
    static func withCluster(_ body: (TestRedisCluster, RedisAttemptStore, _ prefix: String) async throws -> Void) async throws {
        let cluster = try await TestRedisCluster(arguments: arguments)
        defer { cluster.stop() }
        let client = RedisClient(configuration: RedisCrashMidWriteTests.quickToReconnect(try RedisConfiguration(url: cluster.url(seeds: [0, 1, 2]))))
        defer { Task { await client.shutdown() } }
        let prefix = "crash-\(UUID().uuidString.prefix(8))"
        try await body(cluster, RedisAttemptStore(client: client, prefix: prefix), prefix)
    }

    /// The crash test of a single server (`RedisCrashMidWriteTests`), on the slot's owner in a cluster, twice at
    /// moments drawn from a fixed seed: what comes back is whole steps, every acknowledged one, none twice, and
    /// the same store instance counts on once the cluster is ready again.
    @Test func aCrashOfTheSlotsOwnerLeavesWholeSteps() async throws {
        guard RedisServer.isAvailable else { return }
        try await Self.withCluster { cluster, store, prefix in
            var settings = DefenderConfiguration()
            settings.loginFailureLimit = 1_000_000
            settings.longWindowFailureLimit = 0
            let engine = Defender(configuration: settings, store: store)
            let crashes = RedisCrashMidWriteTests()
            #expect(try await engine.login(ip: "10.78.0.1", username: "warm-up", correctPassword: false) == .failure)
            let owner = try await Self.owner(of: prefix, in: cluster)

            var random = SplitMix64(seed: 0xC1A5_7E12)
            var totals = RedisCrashMidWriteTests.Tally()
            for round in 0..<2 {
                let crashAfter = 20 + Int(random.next() % 120)
                let tally = try await crashes.storm(engine, crashAfter: crashAfter, seed: random.next()) {
                    try await cluster.restart(node: owner)
                }
                for (pair, count) in tally.acknowledged { totals.acknowledged[pair, default: 0] += count }
                for (pair, count) in tally.unknown { totals.unknown[pair, default: 0] += count }
                try await cluster.waitUntilReady()
                try await crashes.expectWholeSteps(engine, store: store, totals: totals, round: round)
        }
        #expect(totals.acknowledged.values.reduce(0, +) >= 40)
        let key = try engine.usernameKey(RedisCrashMidWriteTests.usernames[0])
        let before = try await store.state(of: key).failures
        #expect(try await engine.login(ip: RedisCrashMidWriteTests.ips[0], username: RedisCrashMidWriteTests.usernames[0], correctPassword: false) == .failure)
        #expect(try await store.state(of: key).failures == before + 1)
        }
    }

    /// As deployed, with the `fallback` outage policy: while the slot's owner is down every login is answered (by
    /// the instance's memory store; none throws, so an app answers no 5xx), and once it is back the same store
    /// uses the cluster again, by itself — no restart, no health probe — with the lockout made before the crash
    /// still in force there.
    @Test func loginsAreAnsweredWhileTheOwnerIsDownAndTheClusterIsUsedAgainAfter() async throws {
        guard RedisServer.isAvailable else { return }
        try await Self.withCluster { cluster, shared, prefix in
            let store = FallbackAttemptStore(primary: shared, fallback: MemoryAttemptStore(), policy: .fallback, retryInterval: .milliseconds(50))
            let engine = Defender(configuration: DefenderConfiguration(), store: store)
            for _ in 0..<4 { _ = try await engine.login(ip: "10.79.0.1", username: "mallory", correctPassword: false) }
            #expect(try await engine.login(ip: "10.79.0.2", username: "mallory", correctPassword: true) == .refused)
            let owner = try await Self.owner(of: prefix, in: cluster)

            cluster.nodes[owner].crash()
            for index in 0..<20 {
                // Answered (a failure, or refused by the instance's memory store), never an error.
                let result = try await engine.login(ip: "10.79.1.\(index % 4)", username: "user\(index % 3)", correctPassword: false)
                #expect(result == .failure || result == .lockedOut || result == .refused, "\(result)")
        }
        #expect(store.isDegraded)

        try await cluster.restart(node: owner)
        try await cluster.waitUntilReady()
        // Back on the cluster by itself: a new failure lands in Redis, and the lock made before the crash holds.
        #expect(try await eventually(within: .seconds(10), every: .milliseconds(50)) {
            _ = try? await engine.login(ip: "10.79.2.1", username: "after", correctPassword: false)
            return !store.isDegraded
        })
        let landed = try await shared.state(of: engine.usernameKey("after")).failures
        #expect(landed >= 1)
        #expect(try await engine.login(ip: "10.79.2.2", username: "mallory", correctPassword: true) == .refused)
        }
    }
}
