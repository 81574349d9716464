import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Synchronization
import Testing

/// A cancellation that arrives while a record is in flight to Redis never loses it: every record and release runs
/// where the caller's cancellation cannot reach it (also when the script cache was flushed and the record needs
/// its `EVAL` retry).
@Suite(.serialized) struct RedisInFlightCancellationTests {
    @Test func recordsCancelledInFlightStillLand() async throws {
        guard let url = await SharedRedis.url else { return }
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { Task { await client.shutdown() } }
        let store = RedisAttemptStore(client: client, prefix: "cancel-flight-\(UUID().uuidString)")
        var config = DefenderConfiguration()
        config.loginFailureLimit = 1000
        let engine = Defender(configuration: config, store: store)
        let ip = engine.resolver.client(IPAddress("10.21.0.1")!)
        let rounds = 40
        for round in 0..<rounds {
            guard case .allowed(let attempt) = try await engine.check(ip: ip, username: "inflight") else {
                Issue.record("not admitted")
                return
            }
            // Half the rounds without the scripts cached: the record needs NOSCRIPT → EVAL, two round trips.
            if round % 2 == 0 { _ = try await client.send(["SCRIPT", "FLUSH"]) }
            let task = Task { try await engine.recordFailure(attempt) }
            // Cancel at varying points: on entry, while the EVALSHA is out, between it and the EVAL.
            if round % 4 > 0 { try await Task.sleep(for: .microseconds(50 * (round % 4))) }
            task.cancel()
            _ = await task.result
        }
        // Every failure was counted, and no slot is left held.
        var failures = 0
        for _ in 0..<100 {
            failures = try await store.state(of: engine.usernameKey("inflight")).failures
            if failures == rounds { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(failures == rounds)
        #expect(try await store.inFlight(engine.usernameKey("inflight")) == 0)
    }
}

/// An operator's block, unblock or unlock-link redemption is one step with its event: an admin request cancelled
/// while its command is out to Redis (the browser closed) still lands and still announces it. Before, the command
/// was written, the cancelled wait gave up, and the block stood in Redis with no event and an error to the admin.
@Suite(.serialized) struct RedisOperatorCancellationTests {
    @Test func operatorStepsCancelledInFlightLandWithTheirEvents() async throws {
        guard let url = await SharedRedis.url else { return }
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { Task { await client.shutdown() } }
        let store = RedisAttemptStore(client: client, prefix: "cancel-operator-\(UUID().uuidString)")
        let engine = Defender(configuration: DefenderConfiguration(), store: store)
        let announced = Mutex<[DefenderEvent]>([])
        engine.events.on { event in announced.withLock { $0.append(event) } }
        let delivery = Task { await engine.events.run() }
        defer { delivery.cancel() }
        let key = try engine.usernameKey("cancelled-admin")
        for round in 0..<12 {
            let blocking = round.isMultiple(of: 2)
            // Cancelled before it starts: the command is still written (a cancelled wait only drops the reply).
            let call = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await blocking ? engine.block(key, for: .seconds(600)) : engine.unblock(key)
            }
            let changed = try await call.value
            #expect(changed, "round \(round): the \(blocking ? "block" : "unblock") did not land")
            #expect((try await store.state(of: key).block != nil) == blocking, "round \(round)")
            let expected = DefenderEvent(key: key, blocked: blocking)
            var seen = false
            for _ in 0..<200 where !seen {
                seen = announced.withLock { $0.count == round + 1 && $0.last == expected }
                if !seen { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(seen, "round \(round): no event for the \(blocking ? "block" : "unblock")")
        }
    }
}

/// A caller that gives up while its call is out to Redis (a client hangs up, a task group ends) says nothing about
/// the server: it must not count as an outage. It once did — a cancelled login opened the outage circuit, and for
/// the retry interval the next requests went to this instance's memory store (a cluster test then read its blocks
/// there and missed the ones in Redis).
@Suite(.serialized) struct CancelledCallIsNoOutageTests {
    @Test func aCancelledCallLeavesTheSharedStoreInUse() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let redis = RedisAttemptStore(client: RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: server.port)), prefix: "cancel")
        let store = FallbackAttemptStore(primary: redis, fallback: MemoryAttemptStore(), policy: .fallback, retryInterval: .seconds(60))
        let engine = Defender(configuration: DefenderConfiguration(), store: store)
        #expect(try await engine.login(ip: "10.22.0.1", username: "blocked", correctPassword: false) == .failure)
        try await redis.block(engine.usernameKey("blocked"), for: nil)
        for round in 0..<6 {
            // The server holds every command for a while, so the call is surely out when it is cancelled.
            _ = try await serverCommand(server.port, ["CLIENT", "PAUSE", "300", "ALL"])
            let call = Task { try await engine.login(ip: "10.22.0.\(round + 2)", username: "someone", correctPassword: round.isMultiple(of: 2)) }
            try await Task.sleep(for: .milliseconds(20 + 10 * round))
            call.cancel()
            _ = await call.result
            #expect(!store.isDegraded, "round \(round)")
            // Still Redis: its block is seen, and the memory store behind it got nothing.
            #expect(try await store.state(of: engine.usernameKey("blocked")).block != nil, "round \(round)")
            #expect(try await store.fallback.blocks(of: .username, after: nil, limit: 10).blocks.isEmpty)
        }
        // And no admission slot is left held: an admission cancelled while out to Redis is given back (it leaked
        // until its TTL, so that the username's next logins waited and got 503).
        #expect(try await redis.inFlight(engine.usernameKey("someone")) == 0)
        for round in 0..<6 { #expect(try await redis.inFlight(engine.ipKey("10.22.0.\(round + 2)")) == 0, "round \(round)") }
    }
}
