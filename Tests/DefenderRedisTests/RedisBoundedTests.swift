import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Testing

/// Nothing Defender keeps in Redis outlives what it describes, and the first login on a fresh connection costs one
/// round trip per step.
@Suite(.serialized) struct RedisBoundedTests {
    /// Every key under `prefix` with its PTTL.
    static func keys(_ client: RedisClient, _ prefix: String) async throws -> [String: Int64] {
        var cursor = "0"
        var result: [String: Int64] = [:]
        repeat {
            let reply = try await client.send(["SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", "1000"])
            cursor = reply.elements?[0].string ?? "0"
            for key in reply.elements?[1].elements?.compactMap(\.string) ?? [] {
                result[key] = try await client.send(["PTTL", key]).int ?? -2
            }
        } while cursor != "0"
        return result
    }

    /// An attack from thousands of addresses with short lockouts, then silence, and nobody lists the blocks: once
    /// the lockouts lapse, nothing remains that never expires, and the index has expired with its last member.
    @Test func attackFromManyAddressesLeavesNothingBehind() async throws {
        guard let url = await SharedRedis.url else { return }
        // A generous command timeout: on a loaded test machine a 1 s timeout would send writes to the memory
        // fallback, and this test is about what Redis keeps, not about outages.
        var redisConfiguration = try RedisConfiguration(url: url)
        redisConfiguration.commandTimeout = .seconds(10)
        let client = RedisClient(configuration: redisConfiguration)
        defer { Task { await client.shutdown() } }
        let prefix = "bounded-\(UUID().uuidString)"
        var config = DefenderConfiguration()
        config.loginFailureLimit = 1
        config.loginFailureLimitIP = 1
        config.loginFailureLimitUsername = 1
        config.lockoutCooloffTimes = [.seconds(1)]
        config.attemptCooloffTime = .seconds(1)
        config.accessAttemptExpiration = .seconds(2)
        // The long window describes failures for as long as it lasts: a short one, so that it lapses in the test too.
        config.longWindow = .seconds(2)
        let engine = Defender(configuration: config, store: RedisAttemptStore(client: client, prefix: prefix, historyWindow: .seconds(2)))
        let addresses = 3000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in stride(from: worker, to: addresses, by: 8) {
                        let ip = "10.\(index / 65536 % 256).\(index / 256 % 256).\(index % 256)"
                        for _ in 0..<2 { _ = try await engine.login(ip: ip, username: "user\(index % 50)", correctPassword: false) }
                    }
                }
            }
            try await group.waitForAll()
        }
        // On a loaded machine the attack can outlast its own 1 s blocks, so one more lockout, checked at once,
        // puts a member in the index that is surely still active (listing every key below takes a round trip each).
        for _ in 0..<2 { _ = try await engine.login(ip: "10.255.255.1", username: "last", correctPassword: false) }
        #expect(try await client.send(["ZCARD", "\(prefix):index:ip"]).int ?? 0 > 0)
        let during = try await Self.keys(client, prefix)
        // Every key carries a TTL while the attack's blocks are active.
        #expect(during.filter { $0.value == -1 }.isEmpty, "keys without a TTL: \(during.filter { $0.value == -1 }.keys.sorted().prefix(5))")
        try await Task.sleep(for: .milliseconds(3500))
        let after = try await Self.keys(client, prefix)
        #expect(after.isEmpty, "left behind: \(after.count) keys, e.g. \(after.keys.sorted().prefix(5))")
    }

    /// With a permanent block in the index it cannot expire; then each write drops the lapsed members, so it holds
    /// what is active and not the history of an attack.
    @Test func indexWithAPermanentBlockHoldsOnlyActiveBlocks() async throws {
        guard let url = await SharedRedis.url else { return }
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { Task { await client.shutdown() } }
        let prefix = "bounded-perm-\(UUID().uuidString)"
        var config = DefenderConfiguration()
        config.loginFailureLimitIP = 1
        config.lockoutCooloffTimes = [.seconds(4)]
        config.attemptCooloffTime = .seconds(1)
        let engine = Defender(configuration: config, store: RedisAttemptStore(client: client, prefix: prefix))
        try await engine.block(ip: "192.0.2.1")  // permanent
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in stride(from: worker, to: 900, by: 8) {
                        let ip = "10.99.\(index / 256).\(index % 256)"
                        for _ in 0..<2 { _ = try await engine.login(ip: ip, username: nil, correctPassword: false) }
                    }
                }
            }
            try await group.waitForAll()
        }
        // (On a machine so busy that the attack outlasted the 4 s lockouts, some have lapsed and been dropped already.)
        if ContinuousClock.now - start < .seconds(3) {
            #expect(try await client.send(["ZCARD", "\(prefix):index:ip"]).int == 901)
        }
        #expect(try await client.send(["PTTL", "\(prefix):index:ip"]).int == -1)
        try await Task.sleep(for: .milliseconds(4500))
        // One more lockout: its write drops every lapsed member.
        for _ in 0..<2 { _ = try await engine.login(ip: "10.98.0.1", username: nil, correctPassword: false) }
        #expect(try await client.send(["ZCARD", "\(prefix):index:ip"]).int == 2)
        #expect(try await client.send(["ZCARD", "\(prefix):expiry:ip"]).int == 2)
        #expect(Set(try await engine.allBlocks(of: .ip).map(\.key.value)) == ["192.0.2.1", "10.98.0.1"])
        // Unblocked, the permanent member goes, and the index takes the TTL of what is left.
        try await engine.unblock(ip: "192.0.2.1")
        #expect(try await client.send(["PTTL", "\(prefix):index:ip"]).int ?? 0 > 0)
    }

    /// Scripts are loaded with the connection: even the first login after `SCRIPT FLUSH` costs one `EVALSHA` per
    /// step, and no `EVAL`.
    @Test func firstLoginOnANewConnectionIsOneRoundTripPerStep() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let admin = RedisClient(configuration: try RedisConfiguration(url: server.url))
        _ = try await admin.send(["SCRIPT", "FLUSH"])
        _ = try await admin.send(["CONFIG", "RESETSTAT"])
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url))
        let engine = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: client, prefix: "preload"))
        _ = try await engine.login(ip: "10.7.0.1", username: "first", correctPassword: false)
        _ = try await engine.login(ip: "10.7.0.1", username: "first", correctPassword: true)
        let stats = try await admin.send(["INFO", "commandstats"]).string ?? ""
        func calls(_ command: String) -> Int {
            guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }),
                let range = line.range(of: "calls="), let end = line[range.upperBound...].firstIndex(of: ",")
            else { return 0 }
            return Int(line[range.upperBound..<end]) ?? 0
        }
        #expect(calls("eval") == 0, "\(stats)")
        #expect(calls("evalsha") == 4, "\(stats)")  // admit + record, twice
        await client.shutdown()
        await admin.shutdown()
    }
}
