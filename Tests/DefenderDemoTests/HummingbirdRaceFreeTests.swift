import AsyncHTTPClient
import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderDemoSupport
import DefenderHummingbird
import DefenderHummingbirdDemoApp
import DefenderTesting
import Foundation
import NIOCore
import NIOPosix
import Testing

/// The race-free storms of the Vapor demo's suite, against the Hummingbird demo: many guesses released at once,
/// exactly as many password checks as the rules allow, with the memory store, Redis, and two processes on one Redis.
@Suite(.serialized) struct HummingbirdRaceFreeTests {
    static let proxied = ["DEFENDER_BEHIND_REVERSE_PROXY": "true"]

    /// Sends every login at once (a start gate), each from its own connection. - Returns: the statuses in order.
    static func storm(_ logins: [(site: Site, username: String, password: String, from: String)]) async throws -> [UInt] {
        let gate = StartGate(parties: logins.count)
        return try await withThrowingTaskGroup(of: (Int, UInt).self) { group in
            for (index, login) in logins.enumerated() {
                group.addTask {
                    let probe = Probe.form("/login", [("username", login.username), ("password", login.password)], headers: [("X-Forwarded-For", login.from)])
                    await gate.arrive()
                    return (index, try await login.site.send(probe).status)
                }
            }
            var statuses = Array(repeating: UInt(0), count: logins.count)
            for try await (index, status) in group { statuses[index] = status }
            return statuses
        }
    }

    @Test func hundredGuessesWithTheMemoryStore() async throws {
        try await withServedHummingbird(Self.proxied) { demo, site in
            let statuses = try await Self.storm((0..<100).map { (site, "alice", "wrong", "203.0.113.\($0)") })
            #expect(statuses.count { $0 == 401 } == 3 && statuses.count { $0 == 403 } == 97, "\(statuses)")
            let engine = demo.defender.engine
            #expect(try await engine.store.state(of: engine.usernameKey("alice")).failures == 4)
            #expect(try await Self.storm([(site, "alice", "secret1", "192.0.2.1")]) == [403])
        }
    }

    @Test func hundredGuessesWithTheRedisStore() async throws {
        guard let url = await SharedRedis.url else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("no Redis: run the tests with scripts/test") }
            return
        }
        let env = Self.proxied.merging(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": url, "DEFENDER_CACHE_PREFIX": "hbrace-\(UUID().uuidString)"]) { $1 }
        try await withServedHummingbird(env) { demo, site in
            let statuses = try await Self.storm((0..<100).map { (site, "alice", "wrong", "203.0.113.\($0)") })
            #expect(statuses.count { $0 == 401 } == 3 && statuses.count { $0 == 403 } == 97, "\(statuses)")
            let engine = demo.defender.engine
            #expect(try await engine.store.state(of: engine.usernameKey("alice")).failures == 4)
        }
    }

    /// Two `defender-demo-hummingbird serve` processes on one Redis, 50 guesses each, all released together.
    @Test func hundredGuessesAcrossTwoProcesses() async throws {
        guard let executable = HummingbirdExecutableTests.executable() else { return }
        guard let url = await SharedRedis.url else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("no Redis: run the tests with scripts/test") }
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-hb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = "hbrace2-\(UUID().uuidString)"
        let env = [
            "DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": url, "DEFENDER_CACHE_PREFIX": prefix, "DEFENDER_BEHIND_REVERSE_PROXY": "true",
            "DEMO_BCRYPT_COST": "4", "DATABASE_URL": "sqlite://" + directory.appendingPathComponent("demo.sqlite").path,
        ]
        #expect(try await HummingbirdExecutableTests.run(executable, ["create-user", "alice", "secret1"], environment: env).status == 0)
        let first = try await ServerProcess(executable, environment: env)
        defer { first.stop() }
        let second = try await ServerProcess(executable, environment: env)
        defer { second.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 128
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { Task { try? await client.shutdown() } }
        let sites = [Site(name: "first", port: first.port, client: client), Site(name: "second", port: second.port, client: client)]
        let statuses = try await Self.storm((0..<100).map { (sites[$0 % 2], "alice", "wrong", "203.0.113.\($0)") })
        #expect(statuses.count { $0 == 401 } == 3 && statuses.count { $0 == 403 } == 97, "\(statuses)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: url))
        let store = RedisAttemptStore(client: redis, prefix: prefix)
        #expect(try await store.state(of: #require(DefenderKey.username("alice"))).failures == 4)
        #expect(try await store.inFlight(#require(DefenderKey.username("alice"))) == 0)
        await redis.shutdown()
        #expect(try await Self.storm([(sites[0], "alice", "secret1", "192.0.2.1"), (sites[1], "alice", "secret1", "192.0.2.2")]) == [403, 403])
        #expect(first.stop() == 0 && second.stop() == 0)
    }

    /// A client that sends a wrong password and hangs up at once: the attempt is still counted and its slot given
    /// back.
    @Test func clientDisconnectReleasesTheSlot() async throws {
        try await withServedHummingbird(Self.proxied) { demo, site in
            let port = try #require(URLComponents(string: site.base)?.port)
            for index in 0..<5 {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
                let body = "username=alice&password=wrong\(index)"
                let request = "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "X-Forwarded-For: 203.0.113.77\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                try await channel.writeAndFlush(ByteBuffer(string: request)).get()
                try await channel.close().get()
            }
            let engine = demo.defender.engine
            let store = try #require(engine.store as? MemoryAttemptStore)
            let ip = try engine.ipKey("203.0.113.77")
            var settled = false
            for _ in 0..<200 where !settled {
                let failures = try await store.state(of: engine.usernameKey("alice")).failures
                settled = store.inFlight(ip) == 0 && failures >= 4
                if !settled { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(settled)
            #expect(store.inFlight(try engine.usernameKey("alice")) == 0)
            #expect(try await Self.storm([(site, "alice", "secret1", "192.0.2.9")]) == [403])
        }
    }
}
