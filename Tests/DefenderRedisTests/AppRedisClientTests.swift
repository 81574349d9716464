import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// An app's own Redis client behind `RedisScriptExecutor`, as an app would write it over RediStack or valkey-swift:
/// here over the plain command interface of our client (`send`), with its own script fallback, its own reply
/// conversion and, optionally, its own subscription. The store must behave exactly as on our client.
final class AppClientAdapter: RedisScriptExecutor {
    let connection: RedisClient
    let subscribes: Bool
    let evaluations = Atomic<Int>(0)

    init(connection: RedisClient, subscribes: Bool) {
        self.connection = connection
        self.subscribes = subscribes
    }

    var isCluster: Bool { false }

    func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisReply {
        evaluations.add(1, ordering: .relaxed)
        let tail = [String(keys.count)] + keys + arguments
        do {
            return Self.reply(try await connection.send(["EVALSHA", script.sha1] + tail))
        } catch let error as RedisError where error.reply == .noScript {
            return Self.reply(try await connection.send(["EVAL", script.source] + tail))
        }
    }

    func subscribe(to channel: String, onMessage: @escaping @Sendable (String) -> Void) async throws -> (any RedisSubscription)? {
        guard subscribes else { return nil }
        return Subscription(connection: try await connection.openSubscription(to: channel, onMessage: onMessage))
    }

    struct Subscription: RedisSubscription {
        let connection: RedisConnection
        func check() async throws {
            guard connection.isActive else { throw RedisError(.connectionFailed, "closed") }
            _ = try await connection.send(["PING"])
        }
        func close() async { await connection.close() }
    }

    /// The app's conversion of its client's reply type.
    static func reply(_ value: RESPValue) -> RedisReply {
        if let elements = value.elements { return .array(elements.map(reply)) }
        if case .integer(let number) = value { return .integer(number) }
        if let text = value.string { return .string(text) }
        return .null
    }
}

/// A client that fails with an error type of its own, as a foreign client does.
struct FailingAppClient: RedisScriptExecutor {
    struct PoolExhausted: Error {}
    var isCluster: Bool { false }
    func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisReply {
        throw PoolExhausted()
    }
}

@Suite(.serialized) struct AppRedisClientTests {
    static func contract(url: String, subscribes: Bool) throws -> AttemptStoreContract {
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        let adapter = AppClientAdapter(connection: client, subscribes: subscribes)
        return AttemptStoreContract(
            makeStore: { RedisAttemptStore(client: adapter, prefix: "app-\(UUID().uuidString)") },
            advance: { try await Task.sleep(for: $0) })
    }

    /// The whole store contract (lockouts, modes, admission) through the app's client.
    @Test func contractOverTheAppsClient() async throws {
        guard let url = await SharedRedis.url else { return }
        let contract = try Self.contract(url: url, subscribes: false)
        try await contract.runAll()
        try await contract.runAdmission()
    }

    /// Two instances on one app client each: a block lifted on one is lifted on the other at once when the app's
    /// client subscribes, and within the cache's second when it does not.
    @Test(arguments: [true, false]) func liftedBlocksReachTheOtherInstance(subscribes: Bool) async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: server.port))
        let prefix = "lift-\(subscribes)"
        let first = RedisAttemptStore(client: AppClientAdapter(connection: client, subscribes: subscribes), prefix: prefix)
        let secondAdapter = AppClientAdapter(connection: client, subscribes: subscribes)
        let second = RedisAttemptStore(client: secondAdapter, prefix: prefix)
        let group = ServiceGroup(configuration: .init(
            services: [client, first.invalidations, second.invalidations], logger: Logger(label: "app-client-test")))
        let running = Task { try await group.run() }
        defer { Task { await group.triggerGracefulShutdown() } }
        if subscribes {
            // Wait until both listeners are subscribed (two clients on the channel).
            for _ in 0..<100 {
                let count = try await client.send(["PUBSUB", "NUMSUB", "\(prefix):blocks"]).elements?.last?.int ?? 0
                if count == 2 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let firstEngine = Defender(configuration: DefenderConfiguration(), store: first)
        let secondEngine = Defender(configuration: DefenderConfiguration(), store: second)
        let steps = (0..<4).map { _ in LoginStep("10.7.0.1", "carol", expect: .failure) }
        #expect(try await secondEngine.run(steps) == [.failure, .failure, .failure, .lockedOut])
        // The second instance now remembers the block: refused with no round trip.
        let before = secondAdapter.evaluations.load(ordering: .relaxed)
        #expect(try await secondEngine.lockout(ip: secondEngine.resolver.client(IPAddress("10.7.0.1")!), username: "carol") != nil)
        #expect(secondAdapter.evaluations.load(ordering: .relaxed) == before)
        #expect(try await firstEngine.unblock(username: "carol"))
        #expect(try await firstEngine.unblock(ip: "10.7.0.1"))
        let lifted = ContinuousClock.now
        var stillBlocked = true
        while stillBlocked, ContinuousClock.now - lifted < .seconds(3) {
            stillBlocked = try await secondEngine.lockout(ip: secondEngine.resolver.client(IPAddress("10.7.0.1")!), username: "carol") != nil
            if stillBlocked { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(!stillBlocked)
        // Believed at most the cache's staleness (one second) without a subscription; much less with one.
        #expect(ContinuousClock.now - lifted < (subscribes ? .milliseconds(500) : .milliseconds(1_500)))
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// A foreign error is an outage for the failure policy: the fallback store answers, no 500, no leaked text.
    @Test func aForeignErrorIsAnOutage() async throws {
        let redis = RedisAttemptStore(client: FailingAppClient(), prefix: "failing")
        let store = FallbackAttemptStore(primary: redis, fallback: MemoryAttemptStore(), policy: .fallback)
        let engine = Defender(configuration: DefenderConfiguration(), store: store)
        let steps = (0..<4).map { _ in LoginStep("10.7.1.1", "dave", expect: .failure) }
        #expect(try await engine.run(steps) == [.failure, .failure, .failure, .lockedOut])
        #expect(store.isDegraded)
        let direct = await #expect(throws: DefenderError.self) {
            _ = try await redis.check(ip: DefenderKey(kind: .ip, normalizedValue: "10.7.1.1"), username: nil, policy: LockoutPolicy(DefenderConfiguration()))
        }
        #expect(direct?.code == .storeUnavailable)
        #expect(direct?.description.contains("PoolExhausted") == true)
        #expect(redis.topology.kind == "external")
    }

    /// The factory over an app's client reads no URL and runs only the block cache's listener.
    @Test func theFactoryUsesTheAppsClient() throws {
        var configuration = DefenderConfiguration()
        configuration.redisURL = "redis://not-a-host-we-could-reach:1/0"
        let built = try RedisStoreFactory(client: FailingAppClient())
            .makeStore(configuration: configuration, fallbackClock: SystemDefenderClock(), metrics: nil)
        #expect(built.services.count == 1)
        #expect(((built.store as? FallbackAttemptStore)?.primary as? RedisAttemptStore)?.client is FailingAppClient)
    }
}
