import DefenderTesting
import Foundation
import NIOHTTP1
import Testing

/// Slow guessing through the demos' HTTP routes, on the memory store and on Redis, with the short settings of the
/// long-window issue: counters forget after 1 s, the long window keeps 30 s, limit 6.
@Suite(.serialized) struct DemoLongWindowTests {
    typealias Store = DemoStore

    /// The short settings on `store`; `nil` when it is Redis and there is none.
    static func environment(_ store: Store) async -> [String: String]? {
        await store.environment(
            ["DEFENDER_ATTEMPT_COOLOFF_TIME": "1", "DEFENDER_LONG_WINDOW": "30", "DEFENDER_LONG_WINDOW_FAILURE_LIMIT": "6"], prefix: "long")
    }

    /// Past the attempt cool-off on whichever clock counts: the Vapor demo's manual clock (memory store) and the
    /// real one (the Hummingbird demo, and Redis, which uses the server's time).
    static func pastTheCooloff(_ demo: Demo) async throws {
        if demo.framework == .vapor { demo.clock.advance(by: .milliseconds(1_100)) }
        try await Task.sleep(for: .milliseconds(1_100))
    }

    /// 3 failures, a pause past the cool-off, 3 more, a pause: the 7th failure is locked out (`403`), the right
    /// password is refused from elsewhere, and the lockout is counted as `long_window`; a user who mistypes twice
    /// and then logs in, again and again from the same address, is never locked.
    @Test(arguments: DemoFramework.allCases, Store.allCases)
    func slowGuessingIsLockedAtTheLongWindowLimit(_ framework: DemoFramework, _ store: Store) async throws {
        guard let env = await Self.environment(store) else { return }
        try await withDemo(env, users: [("alice", "secret1"), ("bob", "b0b")], on: framework) { (demo) async throws in
            for round in 0..<2 {
                for attempt in 0..<3 {
                    let response = try await demo.login("alice", "wrong", forwardedFor: "192.0.2.60")
                    #expect(response.status == .unauthorized, "round \(round) attempt \(attempt)")
                }
                try await Self.pastTheCooloff(demo)
            }
            let locked = try await demo.login("alice", "wrong", forwardedFor: "192.0.2.60")
            #expect(locked.status == .forbidden && locked.retryAfter != nil)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.61").status == .forbidden)

            for day in 0..<4 {
                for _ in 0..<2 { #expect(try await demo.login("bob", "typo", forwardedFor: "192.0.2.62").status == .unauthorized, "day \(day)") }
                #expect(try await demo.login("bob", "b0b", forwardedFor: "192.0.2.62").status == .found, "day \(day)")
            }

            let counted = DemoBeyondTests.parsePrometheus(try await demo.send(.GET, "/metrics").text)
            #expect(counted["defender_lockouts_total{kind=\"long_window\"}"] == 2)  // the address and alice
            #expect(counted["defender_lockouts_total{kind=\"ip\"}"] ?? 0 == 0 && counted["defender_lockouts_total{kind=\"username\"}"] ?? 0 == 0)
        }
    }

    /// The `RateLimit` header counts down to whichever limit comes first. Two failures per cool-off never reach
    /// the counter's 3, but the window's 6 comes: the 5th failure leaves 1 (the counter alone would say 2), the
    /// 6th none, and the 7th is locked.
    @Test(arguments: DemoFramework.allCases, Store.allCases)
    func theRateLimitHeaderCountsDownToTheLongWindow(_ framework: DemoFramework, _ store: Store) async throws {
        guard var env = await Self.environment(store) else { return }
        env["DEFENDER_RATELIMIT_HEADERS"] = "true"
        try await withDemo(env, users: [("carol", "c4rol")], on: framework) { (demo) async throws in
            var left: [String?] = []
            for round in 0..<3 {
                for _ in 0..<2 { left.append(try await demo.login("carol", "wrong", forwardedFor: "192.0.2.70").headers.first(name: "RateLimit")) }
                if round < 2 { try await Self.pastTheCooloff(demo) }
            }
            #expect(left == [
                "\"ip\";r=2;t=1, \"username\";r=2;t=1", "\"ip\";r=1;t=1, \"username\";r=1;t=1",
                "\"ip\";r=2;t=1, \"username\";r=2;t=1", "\"ip\";r=1;t=1, \"username\";r=1;t=1",
                "\"ip\";r=1;t=1, \"username\";r=1;t=1", "\"ip\";r=0;t=1, \"username\";r=0;t=1",
            ])
            try await Self.pastTheCooloff(demo)
            #expect(try await demo.login("carol", "wrong", forwardedFor: "192.0.2.70").status == .forbidden)
        }
    }
}
