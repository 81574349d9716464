import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Testing

/// A cancellation that arrives while a record is in flight to Redis never loses it: every record and release runs
/// where the caller's cancellation cannot reach it (also when the script cache was flushed and the record needs
/// its `EVAL` retry).
@Suite(.serialized) struct RedisInFlightCancellationTests {
    @Test func recordsCancelledInFlightStillLand() async throws {
        guard let url = SharedRedis.url else { return }
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
