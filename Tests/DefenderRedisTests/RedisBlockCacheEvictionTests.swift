@testable @_spi(Internals) import DefenderRedis
import DefenderCore
import Testing

/// A full cache of known blocks makes room for new ones: it once dropped only lapsed blocks, so ten thousand long
/// blocks learnt once kept it full for good — no new block was cached, and every refusal cost a round trip.
@Suite struct RedisBlockCacheEvictionTests {
    static func block(_ name: String) -> ActiveBlock {
        ActiveBlock(key: DefenderKey(kind: .ip, normalizedValue: name), locksInEveryMode: false, remaining: .seconds(3600))
    }

    static func isKnown(_ cache: RedisBlockCache, _ name: String) -> Bool {
        cache.lockout(ip: DefenderKey(kind: .ip, normalizedValue: name), username: nil, policy: LockoutPolicy(DefenderConfiguration())) != nil
    }

    @Test func aFullCacheMakesRoomForNewBlocks() async throws {
        let cache = RedisBlockCache(capacity: 10, staleness: .seconds(3600), maximumAge: .milliseconds(200))
        cache.learn((0..<10).map { Self.block("10.0.0.\($0)") }, since: cache.generation)
        #expect(cache.count == 10)
        // The old entries are past their age (no longer believed while Redis answers), and a second has passed
        // since the last sweep: a new block takes their place.
        try await Task.sleep(for: .milliseconds(1100))
        cache.learn([Self.block("10.0.1.1")], since: cache.generation)
        #expect(Self.isKnown(cache, "10.0.1.1"))
        #expect(cache.count == 1)
    }

    @Test func aCacheFullOfFreshBlocksDropsTheOldestTenth() async throws {
        let cache = RedisBlockCache(capacity: 20, staleness: .seconds(3600), maximumAge: .seconds(3600))
        for index in 0..<20 { cache.learn([Self.block("10.0.0.\(index)")], since: cache.generation) }
        try await Task.sleep(for: .milliseconds(1100))
        cache.learn([Self.block("10.0.1.1")], since: cache.generation)
        #expect(Self.isKnown(cache, "10.0.1.1"))
        #expect(!Self.isKnown(cache, "10.0.0.0") && !Self.isKnown(cache, "10.0.0.1"), "the oldest two were not the ones to go")
        #expect(Self.isKnown(cache, "10.0.0.19") && cache.count == 19)
    }
}
