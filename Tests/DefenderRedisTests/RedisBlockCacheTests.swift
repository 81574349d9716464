import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Blocks remembered by each instance: refused without a round trip, lifted everywhere within a second, kept
/// through an outage. Each test has a redis-server of its own, so its command counts are its own.
@Suite(.serialized) struct RedisBlockCacheTests {
    /// One instance: a client, its store, the outage policy around it, an engine, and its services running.
    final class Instance: Sendable {
        let client: RedisClient
        let redis: RedisAttemptStore
        let store: FallbackAttemptStore
        let engine: Defender
        let group: ServiceGroup
        let running: Task<Void, any Error>

        init(port: Int, prefix: String, policy: StoreFailurePolicy = .fallback, listen: Bool = true) {
            var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
            configuration.connectTimeout = .milliseconds(200)
            configuration.initialBackoff = .milliseconds(50)
            configuration.maximumBackoff = .milliseconds(100)
            client = RedisClient(configuration: configuration)
            redis = RedisAttemptStore(client: client, prefix: prefix)
            store = FallbackAttemptStore(primary: redis, fallback: MemoryAttemptStore(), policy: policy, retryInterval: .milliseconds(100))
            engine = Defender(configuration: DefenderConfiguration(), store: store)
            let services: [any Service] = listen ? [client, redis.invalidations] : [client]
            group = ServiceGroup(configuration: .init(services: services, logger: Logger(label: "cache-test")))
            let group = group
            running = Task { try await group.run() }
        }

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
        }
    }

    func scriptCalls(_ port: Int) async throws -> Int {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.clientName = "cache-test"
        let connection = try await RedisConnection.connect(to: configuration)
        defer { Task { await connection.close() } }
        let stats = try await connection.send(["INFO", "commandstats"]).string ?? ""
        // cmdstat_evalsha:calls=12,usec=… (and cmdstat_eval after a NOSCRIPT)
        return stats.split(separator: "\r\n").filter { $0.hasPrefix("cmdstat_eval") }.reduce(0) { total, line in
            let calls = line.split(separator: "=")[1].split(separator: ",")[0]
            return total + (Int(calls) ?? 0)
        }
    }

    /// Waits until the instance's subscription is up (the listener empties the cache when it subscribes).
    func subscribed(_ instance: Instance, _ port: Int) async throws {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.clientName = "cache-test"
        for _ in 0..<100 {
            let connection = try await RedisConnection.connect(to: configuration)
            let count = try await connection.send(["PUBSUB", "NUMSUB", "\(instance.redis.prefix):blocks"]).elements?.last?.int ?? 0
            await connection.close()
            if count > 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the block cache never subscribed")
    }

    func lockOut(_ engine: Defender, ip: String, username: String) async throws {
        let steps = (0..<4).map { _ in LoginStep(ip, username, expect: .failure) }
        #expect(try await engine.run(steps) == [.failure, .failure, .failure, .lockedOut])
    }

    @Test func knownBlocksCostNoRoundTrip() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let instance = Instance(port: server.port, prefix: "c1")
        try await subscribed(instance, server.port)
        try await lockOut(instance.engine, ip: "10.2.0.1", username: "mallory")
        let before = try await scriptCalls(server.port)
        for attempt in 0..<30 {
            // The same IP with any username, and the same username from anywhere.
            let ip = attempt.isMultiple(of: 2) ? "10.2.0.1" : "10.2.0.\(attempt + 2)"
            let username = attempt.isMultiple(of: 2) ? "user\(attempt)" : "mallory"
            #expect(try await instance.engine.login(ip: ip, username: username, correctPassword: true) == .refused)
        }
        #expect(try await scriptCalls(server.port) == before)
        // A request the cache cannot decide still goes to Redis.
        #expect(try await instance.engine.login(ip: "10.2.9.9", username: "someone", correctPassword: true) == .success)
        #expect(try await scriptCalls(server.port) == before + 2)
        await instance.stop()
    }

    /// The refusal by address (asked before every login's username is read) costs no round trip: a blocked
    /// address is answered from the cache, and an address the cache knows nothing of is left to admission — so an
    /// admitted login still makes exactly its two scripts.
    @Test func theRefusalByAddressCostsNoRoundTrip() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let instance = Instance(port: server.port, prefix: "c5")
        try await subscribed(instance, server.port)
        try await lockOut(instance.engine, ip: "10.6.0.1", username: "mallory")
        let before = try await scriptCalls(server.port)
        let blocked = instance.engine.resolver.client(IPAddress("10.6.0.1")!)
        let unknown = instance.engine.resolver.client(IPAddress("10.6.0.2")!)
        for _ in 0..<20 {
            #expect(try await instance.engine.lockoutByAddress(blocked) != nil)
            #expect(try await instance.engine.lockoutByAddress(unknown) == nil)
        }
        #expect(try await scriptCalls(server.port) == before)
        await instance.stop()
    }

    @Test func anUnblockThroughOneInstanceReachesTheOtherWithinASecond() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let a = Instance(port: server.port, prefix: "c2")
        let b = Instance(port: server.port, prefix: "c2")
        try await subscribed(b, server.port)
        try await lockOut(b.engine, ip: "10.3.0.1", username: "mallory")
        #expect(try await b.engine.login(ip: "10.3.0.1", username: "x", correctPassword: true) == .refused)
        #expect(b.redis.knownLockout(ip: DefenderKey(kind: .ip, normalizedValue: "10.3.0.1"), username: nil, policy: LockoutPolicy(DefenderConfiguration())) != nil)

        try await a.engine.unblock(ip: "10.3.0.1")
        let started = ContinuousClock.now
        var lifted = false
        while !lifted, ContinuousClock.now - started < .seconds(1) {
            lifted = try await b.engine.login(ip: "10.3.0.1", username: "x", correctPassword: true) == .success
            if !lifted { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(lifted, "instance B still refused the IP a second after A unblocked it")

        // A manual block through A replaces an automatic one B remembers (B learns the new one from Redis).
        try await a.engine.block(username: "mallory", for: .seconds(3600))
        try await Task.sleep(for: .milliseconds(200))
        let lockout = try await b.store.check(ip: DefenderKey(kind: .ip, normalizedValue: "10.3.0.7"), username: DefenderKey(kind: .username, normalizedValue: "mallory"), policy: LockoutPolicy(DefenderConfiguration()))
        #expect((lockout?.retryAfter ?? .zero) > .seconds(3000))
        await a.stop()
        await b.stop()
    }

    @Test(arguments: [StoreFailurePolicy.fallback, .open])
    func aCachedBlockHoldsThroughAnOutage(_ policy: StoreFailurePolicy) async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        do {
            let instance = Instance(port: server.port, prefix: "c3", policy: policy)
            try await subscribed(instance, server.port)
            try await lockOut(instance.engine, ip: "10.4.0.1", username: "mallory")
            server.crash()
            // Redis is gone: the memory fallback never saw this block, and `open` would admit anyone, yet the
            // known attacker stays blocked, again and again (past the cache's one-second staleness too).
            for round in 0..<3 {
                #expect(try await instance.engine.login(ip: "10.4.0.1", username: "other\(round)", correctPassword: true) == .refused)
                #expect(try await instance.engine.login(ip: "10.4.9.\(round)", username: "mallory", correctPassword: true) == .refused)
                try await Task.sleep(for: .milliseconds(600))
            }
            // Known blocks never reached Redis; anyone else meets the outage and its policy.
            #expect(!instance.store.isDegraded)
            #expect(try await instance.engine.login(ip: "10.4.8.8", username: "newcomer", correctPassword: true) == .success)
            #expect(instance.store.isDegraded)
            // An operator's unblock during the outage is not undone by the cache.
            _ = try? await instance.engine.unblock(ip: "10.4.0.1")
            #expect(instance.redis.knownLockout(ip: DefenderKey(kind: .ip, normalizedValue: "10.4.0.1"), username: nil, policy: LockoutPolicy(DefenderConfiguration())) == nil)
            await instance.stop()
        }
    }

    /// Without a subscription, a block lifted behind the cache's back (here: deleted in Redis by hand) is believed
    /// for one second at most.
    @Test func withoutASubscriptionEntriesGoStaleWithinASecond() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let instance = Instance(port: server.port, prefix: "c4", listen: false)
        try await lockOut(instance.engine, ip: "10.5.0.1", username: "mallory")
        #expect(try await instance.engine.login(ip: "10.5.0.1", username: "z", correctPassword: true) == .refused)
        _ = try await instance.client.send(["DEL", "c4:blocked:ip:10.5.0.1", "c4:blocked:username:mallory"])
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await instance.engine.login(ip: "10.5.0.1", username: "z", correctPassword: true) == .success)
        await instance.stop()
    }
}

/// The subscription itself: messages are never taken for a `PING`'s reply, and an ACL user without the channel
/// still unblocks (the announcement is best effort; entries then live one second).
@Suite(.serialized) struct RedisBlockSubscriptionTests {
    @Test func publishedMessagesInterleavedWithPingsAllArrive() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: server.port))
        defer { Task { await client.shutdown() } }
        let received = Mutex<[String]>([])
        let subscription = try await client.openSubscription(to: "chan") { message in received.withLock { $0.append(message) } }
        let publisher = try await RedisConnection.connect(to: RedisConfiguration(host: "127.0.0.1", port: server.port))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for index in 0..<300 { _ = try await publisher.send(["PUBLISH", "chan", "m\(index)"]) } }
            group.addTask { for _ in 0..<100 { _ = try await subscription.send(["PING"]) } }
            try await group.waitForAll()
        }
        for _ in 0..<100 where received.withLock({ $0.count }) < 300 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(received.withLock { $0 } == (0..<300).map { "m\($0)" })
        await subscription.close()
        await publisher.close()
    }

    @Test func anACLUserWithoutTheChannelStillUnblocks() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let admin = try await RedisConnection.connect(to: RedisConfiguration(host: "127.0.0.1", port: server.port))
        _ = try await admin.send(["ACL", "SETUSER", "app", "on", ">app-pw", "~*", "+@all", "resetchannels"])
        await admin.close()
        let client = RedisClient(configuration: try RedisConfiguration(url: "redis://app:app-pw@127.0.0.1:\(server.port)/0"))
        defer { Task { await client.shutdown() } }
        let store = RedisAttemptStore(client: client, prefix: "acl")
        let engine = Defender(configuration: DefenderConfiguration(), store: store)
        let steps = (0..<4).map { _ in LoginStep("10.6.0.1", "mallory", expect: .failure) }
        #expect(try await engine.run(steps) == [.failure, .failure, .failure, .lockedOut])
        #expect(try await engine.unblock(username: "mallory"))
        #expect(try await engine.unblock(ip: "10.6.0.1"))
        #expect(try await engine.login(ip: "10.6.0.1", username: "mallory", correctPassword: true) == .success)
        let error = await #expect(throws: RedisError.self) { _ = try await client.openSubscription(to: "acl:blocks") { _ in } }
        #expect(error?.prefix == "NOPERM")
    }
}
