import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Synchronization
import Testing

/// Redis Cluster: slots as Redis computes them, one slot per script by construction, and a real three-primary
/// cluster of the test's own on loopback, with the store's slot migrated away while logins go on.
@Suite(.serialized) struct RedisClusterTests {
    @Test func slotsAreRedis() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        #expect(ClusterSlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
        #expect(ClusterSlot.of("foo") == 12182 && ClusterSlot.of("bar") == 5061)
        #expect(ClusterSlot.of("{user1000}.following") == ClusterSlot.of("{user1000}.followers"))
        #expect(ClusterSlot.of("{}foo") != ClusterSlot.of("{}bar"))  // an empty tag is no tag
        #expect(ClusterSlot.of("foo{{bar}}zap") == ClusterSlot.of("{bar"))
        // The in-place reading against the definition, on random keys full of braces (and non-ASCII).
        var random = SplitMix64(seed: 0x5107)
        let alphabet = Array("{}ab:é|0")
        for _ in 0..<2_000 {
            let key = String((0..<Int.random(in: 0...10, using: &random)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] })
            #expect(ClusterSlot.of(key) == ClusterSlot.slotByDefinition(key), "\(key)")
        }
    }

    /// Every key the store writes, for any IP and any username (braces included), hashes to the prefix's slot.
    @Test func everyStoreKeyLivesInOneSlot() throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: "redis-cluster://127.0.0.1:1"))
        let store = RedisAttemptStore(client: client, prefix: "defender")
        var random = SplitMix64(seed: 0xC1)
        let alphabet = Array("ab{}:|xyz09 ")
        var keys: [String] = []
        for _ in 0..<500 {
            let name = String((0..<Int.random(in: 1...12, using: &random)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] })
            let ip = DefenderKey(kind: .ip, normalizedValue: "10.0.\(Int.random(in: 0...255, using: &random)).1")
            let user = DefenderKey(kind: .username, normalizedValue: name)
            keys += store.keyNames(ip: ip, username: user)
        }
        #expect(Set(keys.map { ClusterSlot.of($0) }) == [ClusterSlot.of("{defender}")])
        // A prefix given in code (the environment's is checked already) never makes an empty or broken tag.
        #expect(RedisAttemptStore.hashTag("") == "defender" && RedisAttemptStore.hashTag("a}b{") == "ab")
    }

    /// A command whose keys span slots is refused before anything is sent (the seed here does not even exist).
    @Test func crossSlotIsRefusedBeforeSending() async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: "redis-cluster://127.0.0.1:1"))
        defer { Task { await client.shutdown() } }
        let script = RedisScript("return 1")
        let error = await #expect(throws: RedisError.self) { _ = try await client.run(script, keys: ["a", "b"], arguments: []) }
        #expect(error?.message.hasPrefix("CROSSSLOT") == true)
    }

    /// `rediss-cluster://`: every node with TLS only (clients and the cluster bus), the throw-away CA trusted by URL.
    @Test func overTLS() async throws {
        guard RedisServer.isAvailable else { return }
        let certificates = try TestCertificates()
        let cluster = try await TestRedisCluster(tls: (certificates.certificate, certificates.key))
        defer { cluster.stop() }
        let client = RedisClient(configuration: try RedisConfiguration(url: cluster.url(seeds: [1])))
        defer { Task { await client.shutdown() } }
        let engine = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: client, prefix: "tls"))
        let steps = (0..<4).map { _ in LoginStep("10.8.9.1", "mallory", expect: .failure) }
        #expect(try await engine.run(steps) == [.failure, .failure, .failure, .lockedOut])
        #expect(client.clusterPrimaries == 3)
        // The system roots do not know the CA: no node can be reached.
        let untrusted = RedisClient(configuration: try RedisConfiguration(url: "rediss-cluster://127.0.0.1:\(cluster.nodes[0].port)"))
        defer { Task { await untrusted.shutdown() } }
        await #expect(throws: RedisError.self) { _ = try await untrusted.send(["PING"]) }
        // A plain URL for TLS-only nodes says what to fix.
        let plain = RedisClient(configuration: try RedisConfiguration(url: "redis-cluster://127.0.0.1:\(cluster.nodes[0].port)"))
        defer { Task { await plain.shutdown() } }
        let error = await #expect(throws: RedisError.self) { _ = try await plain.send(["PING"]) }
        #expect(error?.message.contains("rediss://") == true, "\(String(describing: error))")
    }

    @Test func parsesClusterURLs() throws {
        let config = try RedisConfiguration(url: "rediss-cluster://:pw@10.0.0.1:7000,10.0.0.2?ssl_cert_reqs=none")
        #expect(config.topology == .cluster(seeds: [.tcp(host: "10.0.0.1", port: 7000), .tcp(host: "10.0.0.2", port: 6379)]))
        #expect(config.password == "pw" && config.tls?.verifyCertificate == false)
        #expect(config.description == "rediss-cluster://:***@10.0.0.1:7000,10.0.0.2:6379")
        #expect(throws: DefenderError.self) { try RedisConfiguration(url: "redis-cluster://h/2") }
    }

    /// Three primaries; two instances given different seeds share a lockout; then the slot holding the store's
    /// keys is migrated to another node, key by key, while logins go on: every login is answered (MOVED, ASK and
    /// TRYAGAIN followed), and the lockout holds on the new node.
    @Test func threePrimariesAndAMigrationUnderLoad() async throws {
        guard RedisServer.isAvailable else { return }
        let cluster = try await TestRedisCluster()
        defer { cluster.stop() }
        let nodes = cluster.nodes
        func command(_ port: Int, _ arguments: [String]) async throws -> RESPValue { try await serverCommand(port, arguments) }
        // As deployed: the outage policy around the store (a script that keeps meeting TRYAGAIN while its slot is
        // half migrated is an outage), and the blocks each instance has seen.
        func engine(seed: Int) throws -> (Defender, RedisClient) {
            var configuration = try RedisConfiguration(url: "redis-cluster://127.0.0.1:\(seed)")
            configuration.commandTimeout = .seconds(5)
            let client = RedisClient(configuration: configuration)
            let store = FallbackAttemptStore(
                primary: RedisAttemptStore(client: client, prefix: "cl"), fallback: MemoryAttemptStore(), policy: .fallback,
                retryInterval: .milliseconds(50))
            return (Defender(configuration: DefenderConfiguration(), store: store), client)
        }
        let (first, firstClient) = try engine(seed: nodes[0].port)
        let (second, secondClient) = try engine(seed: nodes[1].port)
        defer { Task { await firstClient.shutdown(); await secondClient.shutdown() } }
        #expect(try await first.run((0..<3).map { _ in LoginStep("10.8.0.1", "mallory", expect: .failure) }) == [.failure, .failure, .failure])
        #expect(try await second.login(ip: "10.8.0.1", username: "mallory", correctPassword: false) == .lockedOut)
        #expect(try await first.login(ip: "10.8.0.9", username: "mallory", correctPassword: true) == .refused)
        #expect(firstClient.clusterPrimaries == 3)
        let reporting = (first.store as? FallbackAttemptStore)?.primary as? any TopologyReporting
        #expect(reporting?.topology == StoreTopology(kind: "cluster", primaries: 3))

        // Move the store's slot to another node, a few keys at a time, while both instances keep logging in.
        let slot = ClusterSlot.of("{cl}")
        let ids = try await nodes.asyncMap { try await command($0.port, ["CLUSTER", "MYID"]).string ?? "" }
        let sourceIndex = try await nodes.indices.asyncFirst { index in
            (try await command(nodes[index].port, ["CLUSTER", "COUNTKEYSINSLOT", String(slot)]).int ?? 0) > 0
        }
        let source = try #require(sourceIndex)
        let target = (source + 1) % 3
        let answered = Counter()
        let load = Task {
            var round = 0
            while !Task.isCancelled {
                let engine = round.isMultiple(of: 2) ? first : second
                _ = try await engine.login(ip: "10.8.1.\(round % 200)", username: "user\(round % 37)", correctPassword: round.isMultiple(of: 3))
                #expect(try await engine.login(ip: "10.8.2.\(round % 200)", username: "mallory", correctPassword: true) == .refused)
                answered.increment()
                round += 1
            }
        }
        _ = try await command(nodes[target].port, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", ids[source]])
        _ = try await command(nodes[source].port, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", ids[target]])
        // As `redis-cli --cluster reshard` does it: batches of 10 keys, back to back.
        while true {
            let keys = try await command(nodes[source].port, ["CLUSTER", "GETKEYSINSLOT", String(slot), "10"]).elements?.compactMap(\.string) ?? []
            if keys.isEmpty { break }
            _ = try await command(nodes[source].port, ["MIGRATE", "127.0.0.1", String(nodes[target].port), "", "0", "5000", "KEYS"] + keys)
        }
        for node in nodes { _ = try await command(node.port, ["CLUSTER", "SETSLOT", String(slot), "NODE", ids[target]]) }
        // Logins go on after the move, to the old node first: MOVED.
        let before = answered.value
        for _ in 0..<100 where answered.value < before + 20 { try await Task.sleep(for: .milliseconds(20)) }
        load.cancel()
        // A login cut off by the cancellation is fine; an error (a 5xx in an app) is not.
        if case .failure(let error) = await load.result, !(error is CancellationError) { Issue.record("a login failed during the migration: \(error)") }
        #expect(answered.value > 10)
        // The migration was seen: the clients followed MOVED (and, mid-migration, ASK or TRYAGAIN).
        let followed = firstClient.clusterRedirections.merging(secondClient.clusterRedirections, uniquingKeysWith: +)
        #expect(followed["MOVED", default: 0] > 0, "\(followed)")
        #expect(followed["ASK", default: 0] + followed["TRYAGAIN", default: 0] > 0, "\(followed)")
        #expect(try await command(nodes[source].port, ["CLUSTER", "COUNTKEYSINSLOT", String(slot)]).int == 0)
        #expect((try await command(nodes[target].port, ["CLUSTER", "COUNTKEYSINSLOT", String(slot)]).int ?? 0) > 0)
        #expect(try await first.login(ip: "10.8.3.1", username: "mallory", correctPassword: true) == .refused)
        #expect(try await second.login(ip: "10.8.0.1", username: "other", correctPassword: true) == .refused)
        #expect(Set(try await second.allBlocks(of: .username).map(\.key.value)).contains("mallory"))
    }
}

/// A count shared with a task.
private final class Counter: Sendable {
    private let storage = Mutex(0)
    func increment() { storage.withLock { $0 += 1 } }
    var value: Int { storage.withLock { $0 } }
}

extension Collection {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }

    fileprivate func asyncFirst(where predicate: (Element) async throws -> Bool) async throws -> Element? {
        for element in self where try await predicate(element) { return element }
        return nil
    }
}
