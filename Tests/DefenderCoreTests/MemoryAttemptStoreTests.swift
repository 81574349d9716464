import DefenderCore
import DefenderTesting
import Testing

@Suite struct MemoryAttemptStoreTests {
    // A flood of distinct keys never passes the cap, and an active block survives it.
    @Test func millionDistinctKeysStayUnderTheCap() async throws {
        let clock = ManualClock()
        let store = MemoryAttemptStore(capacity: 100_000, clock: clock)
        let policy = LockoutPolicy(DefenderConfiguration())
        let victim = DefenderKey(kind: .username, normalizedValue: "victim")
        let attacker = DefenderKey(kind: .ip, normalizedValue: "6.6.6.6")
        for _ in 0..<4 { _ = try await store.recordFailure(ip: attacker, username: victim, policy: policy) }
        try await store.block(DefenderKey(kind: .ip, normalizedValue: "7.7.7.7"), for: nil)
        var maximum = 0
        for index in 0..<1_000_000 {
            let key = DefenderKey(kind: .ip, normalizedValue: String(index))
            _ = try await store.recordFailure(ip: key, username: nil, policy: policy)
            if index % 1_000 == 0 { maximum = max(maximum, store.count) }
            if store.count > 100_000 {
                Issue.record("count \(store.count) passed the cap at key \(index)")
                break
            }
        }
        #expect(maximum <= 100_000 && store.count <= 100_000)
        #expect(try await store.state(of: victim).block != nil)
        #expect(try await store.state(of: attacker).block != nil)
        #expect(try await store.state(of: DefenderKey(kind: .ip, normalizedValue: "7.7.7.7")).block?.remaining == nil)
        #expect(try await store.check(ip: attacker, username: nil, policy: policy) != nil)
    }

    @Test func evictionOrder() async throws {
        let clock = ManualClock()
        let store = MemoryAttemptStore(capacity: 10, clock: clock)
        var config = DefenderConfiguration()
        config.attemptCooloffTime = .seconds(10)
        let policy = LockoutPolicy(config)
        func ip(_ value: String) -> DefenderKey { DefenderKey(kind: .ip, normalizedValue: value) }
        try await store.block(ip("perm"), for: nil)
        try await store.block(ip("timed"), for: .seconds(1_000))
        for index in 0..<3 { _ = try await store.recordFailure(ip: ip("old\(index)"), username: nil, policy: policy) }
        clock.advance(by: .seconds(11))  // the three "old" counters expire
        for index in 0..<5 {
            for _ in 0..<2 { _ = try await store.recordFailure(ip: ip("busy\(index)"), username: nil, policy: policy) }
        }
        #expect(store.count == 10)
        _ = try await store.recordFailure(ip: ip("new"), username: nil, policy: policy)
        #expect(store.count <= 10)
        #expect(try await store.state(of: ip("perm")).block != nil)
        #expect(try await store.state(of: ip("timed")).block != nil)
        #expect(try await store.state(of: ip("new")).failures == 1)
        // Only blocks left: the permanent one outlives the timed ones.
        let tiny = MemoryAttemptStore(capacity: 3, clock: clock)
        try await tiny.block(ip("p"), for: nil)
        for index in 0..<5 { try await tiny.block(ip("t\(index)"), for: .seconds(Int64(100 + index))) }
        #expect(tiny.count <= 3)
        #expect(try await tiny.state(of: ip("p")).block != nil)
        #expect(try await tiny.state(of: ip("t4")).block != nil)
    }

    @Test func expiredBlocksAreNotListed() async throws {
        let clock = ManualClock()
        let store = MemoryAttemptStore(clock: clock)
        try await store.block(DefenderKey(kind: .username, normalizedValue: "a"), for: .seconds(5))
        try await store.block(DefenderKey(kind: .username, normalizedValue: "b"), for: nil)
        #expect(try await store.blocks(of: .username, after: nil, limit: 10).blocks.count == 2)
        clock.advance(by: .seconds(6))
        let page = try await store.blocks(of: .username, after: nil, limit: 10)
        #expect(page.blocks.map(\.key.value) == ["b"] && page.nextCursor == nil)
        #expect(try await store.blocks(of: .ip, after: nil, limit: 10).blocks.isEmpty)
    }
}
