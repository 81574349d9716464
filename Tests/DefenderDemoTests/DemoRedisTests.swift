import DefenderDemoApp
import DefenderTesting
import DefenderVapor
import Foundation
import Testing
import Vapor
import VaporTesting

/// The demo with `DEFENDER_STORE=redis` against a real redis-server.
@Suite(.serialized) struct DemoRedisTests {
    @Test(arguments: DemoFramework.allCases) func lockoutThroughRedis(_ framework: DemoFramework) async throws {
        guard let url = await SharedRedis.url else { return }
        let prefix = "demo-\(UUID().uuidString)"
        try await withDemo(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": url, "DEFENDER_CACHE_PREFIX": prefix], on: framework) { (demo) async throws in
            for _ in 0..<3 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            let locked = try await demo.login("alice", "wrong")
            #expect(locked.status == .forbidden)
            #expect(Int(locked.retryAfter ?? "") ?? 0 > 290)
            #expect(try await demo.login("alice", "secret1").status == .forbidden)
            let health = try await demo.send(.GET, "/healthz")
            #expect(health.status == .ok && health.text.contains("\"store\":\"redis\"") && health.text.contains("\"status\":\"ok\""))
            let engine = try demo.engine()
            #expect(try await engine.allBlocks(of: .username).map(\.key.value) == ["alice"])
        }
    }

    @Test(arguments: DemoFramework.allCases) func outageFallsBackAndReportsDegraded(_ framework: DemoFramework) async throws {
        // Nothing listens on port 1: the fallback policy keeps protecting from memory.
        try await withDemo(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": "redis://:secret-pw@127.0.0.1:1/0"], on: framework) { (demo) async throws in
            for _ in 0..<3 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            #expect(try await demo.login("alice", "wrong").status == .forbidden)
            let health = try await demo.send(.GET, "/healthz")
            #expect(health.status == .ok && health.text.contains("\"status\":\"degraded\""))
            #expect(!health.text.contains("secret-pw"))
        }
    }

    @Test(arguments: DemoFramework.allCases) func closedPolicyRefusesWith503(_ framework: DemoFramework) async throws {
        try await withDemo([
            "DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": "redis://127.0.0.1:1/0", "DEFENDER_STORE_FAILURE_POLICY": "closed",
        ], on: framework) { (demo) async throws in
            #expect(try await demo.login("alice", "secret1").status == .serviceUnavailable)
            #expect(try await demo.send(.GET, "/healthz").status == .serviceUnavailable)
        }
    }

    @Test(arguments: DemoFramework.allCases) func openPolicyLetsLoginsThrough(_ framework: DemoFramework) async throws {
        try await withDemo([
            "DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": "redis://127.0.0.1:1/0", "DEFENDER_STORE_FAILURE_POLICY": "open",
        ], on: framework) { (demo) async throws in
            for _ in 0..<5 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            #expect(try await demo.login("alice", "secret1").status == .found)
        }
    }

    @Test(arguments: DemoFramework.allCases) func badRedisURLStopsStartUp(_ framework: DemoFramework) async throws {
        await #expect(throws: DefenderError.self) {
            try await withDemo(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": "redis://:pw@h:notaport/0"], on: framework) { _ in }
        }
    }
}

/// Redis stopped in the middle: logins are answered from memory, health is degraded; Redis back: used again.
@Suite(.serialized) struct DemoRedisOutageTests {
    @Test(arguments: DemoFramework.allCases) func stopAndRestartRedis(_ framework: DemoFramework) async throws {
        guard RedisServer.isAvailable else { return }
        var server = try await RedisServer()
        let port = server.port
        try await withDemo(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": server.url], on: framework) { (demo) async throws in
            #expect(try await demo.login("alice", "wrong").status == .unauthorized)
            server.stop()
            for _ in 0..<3 {
                let status = try await demo.login("bob", "wrong").status
                #expect(status == .unauthorized)
            }
            #expect(try await demo.login("bob", "wrong").status == .forbidden)  // protection continues from memory
            #expect(try await demo.send(.GET, "/healthz").text.contains("\"status\":\"degraded\""))
            server = try await RedisServer(fixedPort: port)
            var back = false
            for _ in 0..<50 where !back {
                _ = try await demo.login("carol", "wrong")
                back = try await demo.send(.GET, "/healthz").text.contains("\"status\":\"ok\"")
                if !back { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(back)
            // The restarted Redis is empty: bob's memory-only lock does not follow, carol's counter is in Redis.
            let engine = try demo.engine()
            let redis = try #require((engine.store as? FallbackAttemptStore)?.primary)
            #expect(try await redis.state(of: engine.usernameKey("carol")).failures >= 1)
        }
        server.stop()
    }
}
