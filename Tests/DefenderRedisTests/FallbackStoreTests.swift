import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Testing

/// The outage policy against a redis-server that is stopped and started again.
@Suite(.serialized) struct FallbackStoreTests {
    func store(_ port: Int, policy: StoreFailurePolicy) throws -> FallbackAttemptStore {
        var config = RedisConfiguration(host: "127.0.0.1", port: port)
        config.initialBackoff = .milliseconds(50)
        config.maximumBackoff = .milliseconds(100)
        config.connectTimeout = .milliseconds(300)
        let redis = RedisAttemptStore(client: RedisClient(configuration: config), prefix: "fb-\(UUID().uuidString)")
        return FallbackAttemptStore(primary: redis, fallback: MemoryAttemptStore(), policy: policy, retryInterval: .milliseconds(100))
    }

    @Test func fallsBackToMemoryAndComesBack() async throws {
        guard RedisServer.isAvailable else { return }
        var server = try await RedisServer()
        let port = server.port
        let fallback = try store(port, policy: .fallback)
        let engine = Defender(configuration: DefenderConfiguration(), store: fallback)
        #expect(try await engine.login(ip: "10.9.0.1", username: "o", correctPassword: false) == .failure)
        #expect(!fallback.isDegraded)
        server.stop()
        // Logins keep working and keep being counted, in memory.
        for _ in 0..<4 { _ = try await engine.login(ip: "10.9.0.1", username: "o", correctPassword: false) }
        #expect(fallback.isDegraded)
        #expect(try await engine.login(ip: "10.9.0.1", username: "o", correctPassword: true) == .refused)
        // Redis comes back on the same port: used again without a restart.
        server = try await RedisServer(fixedPort: port)
        defer { server.stop() }
        try await Task.sleep(for: .milliseconds(250))
        var back = false
        for _ in 0..<40 where !back {
            _ = try await engine.login(ip: "10.9.0.2", username: "p", correctPassword: true)
            back = !fallback.isDegraded
            if !back { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(back)
    }

    /// What an outage counted in memory is forgotten when Redis is back: a later outage does not revive a block
    /// that Redis has since lifted (an operator's unblock, a success), on this instance.
    @Test func anOutagesMemoryIsForgottenWhenRedisIsBack() async throws {
        guard RedisServer.isAvailable else { return }
        var server = try await RedisServer()
        let port = server.port
        let fallback = try store(port, policy: .fallback)
        let engine = Defender(configuration: DefenderConfiguration(), store: fallback)
        server.stop()
        for bot in 1...4 { _ = try await engine.login(ip: "10.9.4.\(bot)", username: "k", correctPassword: false) }
        #expect(try await fallback.fallback.state(of: engine.usernameKey("k")).block != nil, "locked in memory during the outage")
        server = try await RedisServer(fixedPort: port)
        #expect(try await eventually(within: .seconds(10), every: .milliseconds(100)) {
            _ = try await engine.login(ip: "10.9.4.9", username: "other", correctPassword: true)
            return !fallback.isDegraded
        })
        #expect(try await fallback.fallback.state(of: engine.usernameKey("k")).block == nil)
        server.stop()
        // A second outage: k's old memory block is not revived.
        #expect(try await engine.login(ip: "10.9.4.10", username: "k", correctPassword: true) == .success)
    }

    @Test func openAndClosedPolicies() async throws {
        let open = try store(1, policy: .open)
        let engine = Defender(configuration: DefenderConfiguration(), store: open)
        for _ in 0..<6 { #expect(try await engine.login(ip: "10.9.1.1", username: "x", correctPassword: false) == .failure) }
        #expect(open.isDegraded && !open.isRefusingLogins)
        await #expect(throws: DefenderError.self) { try await engine.block(ip: "10.9.1.1") }
        let closed = try store(1, policy: .closed)
        let strict = Defender(configuration: DefenderConfiguration(), store: closed)
        let error = await #expect(throws: DefenderError.self) { try await strict.login(ip: "10.9.1.1", username: "x", correctPassword: true) }
        #expect(error?.code == .storeUnavailable)
        #expect(closed.isRefusingLogins)
    }

    /// During an outage, under the `fallback` policy too, an operator's block, unblock, list and key state fail
    /// (nothing lands in this instance's memory, where it would protect nothing elsewhere and vanish afterwards),
    /// while logins go on in memory; a valid device cookie is not trusted (an operator's block of the username
    /// cannot be ruled out).
    @Test func operatorActionsNeverLandInMemory() async throws {
        let fallback = try store(1, policy: .fallback)
        var configuration = DefenderConfiguration()
        configuration.secretKeys = [DefenderSecret("fallback-device-key-0123456789-abcdefghij")]
        let engine = Defender(configuration: configuration, store: fallback)
        let key = DefenderKey(kind: .ip, normalizedValue: "10.9.3.1")
        for action in [
            { _ = try await engine.store.block(key, for: nil) }, { _ = try await engine.store.unblock(key) },
            { _ = try await engine.store.blocks(of: .ip, after: nil, limit: 10) }, { _ = try await engine.store.state(of: key) },
        ] as [@Sendable () async throws -> Void] {
            let error = await #expect(throws: DefenderError.self) { try await action() }
            #expect(error?.code == .storeUnavailable)
        }
        #expect(try await fallback.fallback.blocks(of: .ip, after: nil, limit: 10).blocks.isEmpty, "nothing was blocked in memory")
        // Logins go on, counted in memory; a valid cookie for "d" is judged like any other client's.
        let cookie = try #require(engine.deviceCookies).issue(for: try #require(DefenderKey.username("d")))
        for index in 1...3 { #expect(try await engine.login(ip: "10.9.3.\(index)", username: "d", correctPassword: false) == .failure) }
        #expect(try await engine.login(ip: "10.9.3.4", username: "d", correctPassword: false) == .lockedOut)
        #expect(try await engine.login(ip: "10.9.3.5", username: "d", deviceCookie: cookie, correctPassword: true) == .refused)
    }

    /// A store error says what went wrong in Redis: the Redis error is kept as the underlying error.
    @Test func storeErrorsCarryTheRedisError() async throws {
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: 1))
        defer { Task { await client.shutdown() } }
        let store = RedisAttemptStore(client: client)
        let error = await #expect(throws: DefenderError.self) {
            try await store.check(ip: DefenderKey(kind: .ip, normalizedValue: "10.0.0.1"), username: nil, policy: LockoutPolicy(DefenderConfiguration()))
        }
        #expect(error?.code == .storeUnavailable)
        #expect((error?.underlying as? RedisError)?.code == .connectionFailed)
        var configuration = DefenderConfiguration()
        configuration.redisURL = "redis://:secret@host:notaport"
        let bad = #expect(throws: DefenderError.self) {
            try RedisStoreFactory().makeStore(configuration: configuration, fallbackClock: SystemDefenderClock(), metrics: nil)
        }
        #expect(bad?.setting == "DEFENDER_REDIS_URL" && (bad?.underlying as? RedisError)?.code == .invalidURL)
        #expect(bad?.description.contains("secret") == false)
    }

    /// A Redis whose memory is full refuses every script that adds data (`OOM`) and still runs those that read or
    /// delete. Such a success is not the end of the outage: the fallback's counts stay, and the victim locks on
    /// her fourth failure. (It once ended the outage and forgot the counts every retry interval: an attacker got
    /// three guesses a second, never locked.) Once Redis accepts writes again, an admission ends the outage.
    @Test func aFullRedisDoesNotResetTheFallbacksCounts() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let store = try store(server.port, policy: .fallback)
        let engine = Defender(configuration: DefenderConfiguration(), store: store)
        _ = try await serverCommand(server.port, ["CONFIG", "SET", "maxmemory", "1"])
        for attempt in 1...3 {
            #expect(try await engine.login(ip: "10.40.0.\(attempt)", username: "victim", correctPassword: false) == .failure)
        }
        #expect(store.isDegraded)
        for round in 0..<3 {
            // After the retry interval, a read (the lockout helper's check) reaches Redis, which answers it.
            try await Task.sleep(for: .milliseconds(150))
            #expect(try await engine.lockout(ip: engine.resolver.client(IPAddress("10.40.1.1")!), username: "someone") == nil)
            #expect(store.isDegraded, "round \(round): a read ended the outage")
        }
        #expect(try await engine.login(ip: "10.40.0.4", username: "victim", correctPassword: false) == .lockedOut)
        _ = try await serverCommand(server.port, ["CONFIG", "SET", "maxmemory", "0"])
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await engine.login(ip: "10.40.2.1", username: "carol", correctPassword: true) == .success)
        #expect(!store.isDegraded)
    }

    /// During an outage admission goes on in memory, just as race-free, and its slots are given back there.
    @Test func admissionDuringAnOutage() async throws {
        let fallback = try store(1, policy: .fallback)
        let engine = Defender(configuration: DefenderConfiguration(), store: fallback)
        let (results, checks) = try await AttemptStoreContract.storm(engine: engine, count: 50) { index in ("10.9.2.\(index)", "down", false) }
        #expect(checks == 4, "\(results)")
        #expect(results[.refused] == 46, "\(results)")
        #expect(fallback.fallback.inFlight(try engine.usernameKey("down")) == 0)
        // Under `open` every request is admitted and nothing is held.
        let open = Defender(configuration: DefenderConfiguration(), store: try store(1, policy: .open))
        guard case .allowed(let attempt) = try await open.check(ip: open.resolver.client(IPAddress("10.9.3.1")!), username: "u") else {
            Issue.record("open policy refused")
            return
        }
        try await open.release(attempt)
    }
}

/// A block another instance wrote to Redis before Redis filled up still refuses on an instance that never saw it.
@Suite struct ReadableOutageTests {
    /// Instance A locks an address and a username in Redis; then Redis's memory fills (`OOM` refuses every script that
    /// adds data, while the read-only check still runs). Instance B, with an empty block cache, admits in its memory
    /// during the outage, but first asks Redis: the locked address and the locked username are refused there too;
    /// an unrelated login is admitted in memory. (Without the question, B admitted the attacker afresh: a full
    /// Redis unblocked everyone on every instance that had not seen the block itself.)
    @Test(arguments: [StoreFailurePolicy.fallback, .open])
    func blocksInAFullRedisStillRefuseOnOtherInstances(_ policy: StoreFailurePolicy) async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let prefix = "ro-\(UUID().uuidString)"
        func instance() -> (Defender, FallbackAttemptStore) {
            var config = RedisConfiguration(host: "127.0.0.1", port: server.port)
            config.initialBackoff = .milliseconds(50)
            let redis = RedisAttemptStore(client: RedisClient(configuration: config), prefix: prefix)
            let store = FallbackAttemptStore(primary: redis, fallback: MemoryAttemptStore(), policy: policy, retryInterval: .milliseconds(100))
            return (Defender(configuration: DefenderConfiguration(), store: store), store)
        }
        let (first, _) = instance()
        for attempt in 1...4 { _ = try await first.login(ip: "10.41.0.1", username: "user\(attempt)", correctPassword: false) }
        for attempt in 1...4 { _ = try await first.login(ip: "10.41.1.\(attempt)", username: "victim", correctPassword: false) }
        #expect(try await first.login(ip: "10.41.0.1", username: "other", correctPassword: true) == .refused)
        #expect(try await first.login(ip: "10.41.2.1", username: "victim", correctPassword: true) == .refused)

        _ = try await serverCommand(server.port, ["CONFIG", "SET", "maxmemory", "1"])
        let (second, store) = instance()
        #expect(try await second.login(ip: "10.41.3.1", username: "carol", correctPassword: true) == .success, "not locked: admitted in memory")
        #expect(store.isDegraded)
        // Both while the circuit is open (skipping Redis's writes) and after each retry interval.
        for round in 0..<3 {
            #expect(try await second.login(ip: "10.41.0.1", username: "someone", correctPassword: true) == .refused, "round \(round)")
            #expect(try await second.login(ip: "10.41.4.\(round)", username: "victim", correctPassword: true) == .refused, "round \(round)")
            try await Task.sleep(for: .milliseconds(120))
        }
        #expect(store.isDegraded, "a write probe each retry interval, refused")
        // Redis takes writes again and only locked clients knock (answered from this instance's cache of blocks,
        // which proves nothing): the probe they trigger sees Redis write, and the outage ends.
        _ = try await serverCommand(server.port, ["CONFIG", "SET", "maxmemory", "0"])
        try await Task.sleep(for: .milliseconds(120))
        #expect(try await second.login(ip: "10.41.0.1", username: "someone", correctPassword: true) == .refused)
        #expect(!store.isDegraded, "the outage ended")
    }
}
