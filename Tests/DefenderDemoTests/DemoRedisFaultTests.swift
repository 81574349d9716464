import DefenderDemoApp
@_spi(Internals) import DefenderRedis
import DefenderTesting
import DefenderVapor
import Foundation
import Testing
import Vapor
import VaporTesting

/// A Redis that is reachable but cannot serve, in every state a real redis-server can be put in here: a primary
/// demoted to a replica (`READONLY`), memory full under `noeviction` (`OOM`), all clients paused, a busy script
/// (`BUSY`), a data set still loading (`LOADING`), and a key of the wrong type (`WRONGTYPE`, a fault rather than
/// an outage). In each: no 5xx, protection goes on (from this instance's memory), `/healthz` says `degraded`, and
/// Redis is used again once it can serve, with no restart.
@Suite(.serialized) struct DemoRedisFaultTests {
    /// A fault to put a running server in, and how to lift it.
    struct Fault: Sendable, CustomStringConvertible {
        var description: String
        var induce: @Sendable (RedisConnection, String) async throws -> Void
        var lift: @Sendable (RedisConnection, String) async throws -> Void
    }

    static let faults: [Fault] = [
        Fault(description: "READONLY: demoted to a replica", induce: { admin, _ in
            // Port 1 has no primary: the server stays a replica, keeps its data and refuses writes.
            _ = try await admin.send(["REPLICAOF", "127.0.0.1", "1"])
        }, lift: { admin, _ in _ = try await admin.send(["REPLICAOF", "NO", "ONE"]) }),
        Fault(description: "OOM: maxmemory with noeviction", induce: { admin, _ in
            _ = try await admin.send(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
            _ = try await admin.send(["CONFIG", "SET", "maxmemory", "1"])
        }, lift: { admin, _ in _ = try await admin.send(["CONFIG", "SET", "maxmemory", "0"]) }),
        // Long enough for the logins, the lockout and the health probe on a loaded machine (the whole suite runs
        // beside it under CI, where 2.5 s and then 6 s were outlasted); lifting waits for its end: a PING on a new
        // connection is answered only then. (`CLIENT UNPAUSE` cannot end it: Redis 7.0 pauses that command too.)
        Fault(description: "CLIENT PAUSE ALL", induce: { admin, _ in
            _ = try await admin.send(["CLIENT", "PAUSE", "15000", "ALL"])
        }, lift: { admin, _ in
            var patient = RedisConfiguration(host: "127.0.0.1", port: try #require(admin.port))
            patient.commandTimeout = .seconds(30)
            let connection = try await RedisConnection.connect(to: patient)
            _ = try await connection.send(["PING"])
            await connection.close()
        }),
        // Not an outage but a fault (data written by something else under Defender's prefix): logged at error,
        // and still never a 500. Every admission from the client's address touches this key.
        Fault(description: "WRONGTYPE: a string where the address's admission slots belong", induce: { admin, prefix in
            _ = try await admin.send(["SET", "\(prefix):inflight:ip:127.0.0.1", "not a sorted set"])
        }, lift: { admin, prefix in _ = try await admin.send(["DEL", "\(prefix):inflight:ip:127.0.0.1"]) }),
    ]

    @Test(arguments: DemoFramework.allCases, 0..<faults.count) func faultIsAnOutageNotA500(_ framework: DemoFramework, _ index: Int) async throws {
        guard RedisServer.isAvailable else { return }
        let fault = Self.faults[index]
        let server = try await RedisServer(["--busy-reply-threshold", "100"])
        defer { server.stop() }
        let prefix = "fault-\(index)"
        try await withDemo(Self.environment(server.port, prefix), on: framework) { (demo) async throws in
            let admin = try await RedisConnection.connect(to: try RedisConfiguration(url: server.url))
            #expect(try await demo.login("alice", "wrong").status == .unauthorized)
            try await fault.induce(admin, prefix)
            try await Self.expectProtectedAndDegraded(demo, username: "victim\(index)", "\(fault)")
            try await fault.lift(admin, prefix)
            try await Self.expectRecovery(demo, "\(fault)")
            await admin.close()
        }
    }

    @Test(arguments: DemoFramework.allCases) func busyScript(_ framework: DemoFramework) async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer(["--busy-reply-threshold", "50"])
        defer { server.stop() }
        try await withDemo(Self.environment(server.port, "busy"), on: framework) { (demo) async throws in
            let configuration = try RedisConfiguration(url: server.url + "?command_timeout=30")
            let looping = try await RedisConnection.connect(to: configuration)
            let killer = try await RedisConnection.connect(to: configuration)
            #expect(try await demo.login("alice", "wrong").status == .unauthorized)
            // A script that never ends on its own: every other client gets -BUSY until SCRIPT KILL.
            let loop = Task { try? await looping.send(["EVAL", "local i = 0 while true do i = i + 1 end", "0"]) }
            try await Task.sleep(for: .milliseconds(200))
            try await Self.expectProtectedAndDegraded(demo, username: "busyvictim", "BUSY")
            _ = try await killer.send(["SCRIPT", "KILL"])
            _ = await loop.value
            try await Self.expectRecovery(demo, "BUSY")
            await looping.close()
            await killer.close()
        }
    }

    @Test(arguments: DemoFramework.allCases) func loadingDataSet(_ framework: DemoFramework) async throws {
        guard RedisServer.isAvailable else { return }
        // A data set large enough, and loaded slowly enough, that the server answers LOADING for a while.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-loading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = ["--dir", directory.path, "--dbfilename", "dump.rdb"]
        let writer = try await RedisServer(files + ["--enable-debug-command", "local"])
        let admin = try await RedisConnection.connect(to: try RedisConfiguration(url: writer.url))
        _ = try await admin.send(["DEBUG", "POPULATE", "100000"])
        _ = try await admin.send(["SAVE"])
        await admin.close()
        writer.stop()
        let server = try await RedisServer(files + ["--key-load-delay", "10"])
        defer { server.stop() }
        // While loading, even the handshake is refused (`-LOADING`).
        let configuration = try RedisConfiguration(url: server.url)
        let loading = await (try? RedisConnection.connect(to: configuration).send(["SET", "probe", "1"])) == nil
        #expect(loading, "the server finished loading before the test could see it")
        try await withDemo(Self.environment(server.port, "loading"), on: framework) { (demo) async throws in
            try await Self.expectProtectedAndDegraded(demo, username: "loadvictim", "LOADING")
            try await Self.expectRecovery(demo, "LOADING", seconds: 120)
        }
    }

    static func environment(_ port: Int, _ prefix: String) -> [String: String] {
        [
            "DEFENDER_STORE": "redis", "DEFENDER_CACHE_PREFIX": prefix,
            "DEFENDER_REDIS_URL": "redis://127.0.0.1:\(port)/0?command_timeout=0.3&connect_timeout=0.3",
        ]
    }

    /// Three failures are answered 401 and the fourth is locked out, all from memory; nothing is a 5xx.
    static func expectProtectedAndDegraded(_ demo: Demo, username: String, _ label: String) async throws {
        for attempt in 1...3 {
            let status = try await demo.login(username, "wrong").status
            #expect(status == .unauthorized, "\(label): failure \(attempt) answered \(status)")
        }
        let locked = try await demo.login(username, "wrong")
        #expect(locked.status == .forbidden, "\(label): the lockout answered \(locked.status)")
        #expect(try await demo.login(username, "right").status == .forbidden, "\(label)")
        #expect(try await demo.apiLogin(username, "wrong").status == .forbidden, "\(label)")
        let health = try await demo.send(.GET, "/healthz")
        #expect(health.status == .ok && health.text.contains("\"status\":\"degraded\""), "\(label): \(health.text)")
    }

    /// Logins go back to Redis by themselves: health turns `ok`, and a new failure is counted in Redis.
    static func expectRecovery(_ demo: Demo, _ label: String, seconds: Int = 10) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var back = false
        while !back, ContinuousClock.now < deadline {
            let status = try await demo.login("recovery", "wrong").status
            #expect(status.code < 500, "\(label): \(status) while recovering")
            back = try await demo.send(.GET, "/healthz").text.contains("\"status\":\"ok\"")
            if !back { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(back, "\(label): still degraded after \(seconds) s")
        let engine = try demo.engine()
        let redis = try #require((engine.store as? FallbackAttemptStore)?.primary)
        #expect(try await redis.state(of: engine.usernameKey("recovery")).failures >= 1, "\(label)")
    }
}
