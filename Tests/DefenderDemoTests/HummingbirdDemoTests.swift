import DefenderCore
import DefenderDemoSupport
import NIOHTTP1
import DefenderFluent
import DefenderHummingbirdDemoApp
import DefenderTesting
import FluentKit
import Foundation
import Synchronization
import ServiceLifecycle
import HTTPTypes
import Hummingbird
import Logging
import Testing

/// What the Hummingbird demo does beyond answering like the Vapor one: sessions rotated at login, its store shared
/// with a Vapor instance, PostgreSQL, and its executable's commands and shutdown.
@Suite(.serialized) struct HummingbirdDemoTests {
    /// A session id someone else obtained (logging in as himself) or invented never becomes the victim's session:
    /// the login answers with a new id, and the old one is deleted.
    @Test func loginRotatesTheSessionID() async throws {
        try await withBothDemos { _, site in
            _ = try await site.send(.form("/login", [("username", "alice"), ("password", "secret1")]))
            let planted = try #require(site.session)
            _ = try await site.send(.form("/login", [("username", "root"), ("password", "rootpw1")], headers: [("Cookie", "\(DemoSessionCookie.name)=\(planted)")]))
            let fresh = try #require(site.session)
            #expect(fresh != planted)
            site.session = planted
            #expect(try await site.send(Probe(path: "/", withSession: true)).body.contains("Not logged in"))
            site.session = fresh
            #expect(try await site.send(Probe(path: "/", withSession: true)).body.contains("Logged in as <strong>root</strong>"))

            site.session = "invented-by-attacker"
            let invented = try await site.send(.form("/login", [("username", "alice"), ("password", "secret1")], headers: [("Cookie", "\(DemoSessionCookie.name)=invented-by-attacker")]))
            #expect(invented.status == 302 && site.session != "invented-by-attacker" && site.session != nil)
            // Logged out, the session is gone on the server as well: its id no longer logs anyone in.
            let loggedIn = try #require(site.session)
            _ = try await site.send(Probe(method: .POST, path: "/logout", withSession: true))
            site.session = loggedIn
            #expect(try await site.send(Probe(path: "/", withSession: true)).body.contains("Not logged in"))
        }
    }

    /// A Vapor and a Hummingbird instance behind one Sentinel group: the primary is killed; no answer through the
    /// failover is a 5xx, `/healthz` follows the promoted replica on both, and a lockout made before still holds.
    @Test func oneSentinelGroupFailsOverUnderBothFrameworks() async throws {
        guard RedisServer.isAvailable else { return }
        let group = try await TestRedisSentinel()
        defer { group.stop() }
        let env = [
            "DEFENDER_STORE": "redis", "DEFENDER_CACHE_PREFIX": "sentinel-demo",
            "DEFENDER_REDIS_URL": group.url + "&connect_timeout=0.3&command_timeout=0.5",
        ]
        try await withBothDemos(env) { vapor, hummingbird in
            for attempt in 1...3 {
                #expect(try await vapor.send(.form("/login", [("username", "alice"), ("password", "no\(attempt)")])).status == 401)
            }
            #expect(try await hummingbird.send(.form("/login", [("username", "alice"), ("password", "no4")])).status == 403)
            for site in [vapor, hummingbird] {
                let health = try await site.send(Probe(path: "/healthz"))
                #expect(health.body == #"{"primary":"127.0.0.1:\#(group.primary.port)","status":"ok","store":"redis","topology":"sentinel"}"#)
            }
            _ = try await TestRedisSentinel.cli(group.primary.port, ["WAIT", "1", "2000"])
            group.primary.crash()
            var statuses: [UInt] = []
            var followed = false
            let started = ContinuousClock.now
            while !followed, ContinuousClock.now - started < .seconds(30) {
                followed = true
                for site in [vapor, hummingbird] {
                    statuses.append(try await site.send(.json("/api/login", #"{"username":"nobody","password":"x"}"#, headers: [("X-Forwarded-For", "198.51.100.9")])).status)
                    let health = try await site.send(Probe(path: "/healthz"))
                    statuses.append(health.status)
                    followed = followed && health.body.contains(#""primary":"127.0.0.1:\#(group.replica.port)","status":"ok""#)
                }
                if !followed { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(followed, "the demos did not move to the promoted replica")
            #expect(statuses.allSatisfy { $0 < 500 }, "\(statuses)")
            #expect(try await vapor.send(.form("/login", [("username", "alice"), ("password", "secret1")])).status == 403)
            #expect(try await hummingbird.send(.json("/api/login", #"{"username":"alice","password":"secret1"}"#)).status == 403)
        }
    }

    /// A Vapor and a Hummingbird instance on one Redis Cluster, each given another seed node: a lock earned on one
    /// holds on the other, and `/healthz` names the topology.
    @Test func oneClusterLocksAcrossFrameworks() async throws {
        guard RedisServer.isAvailable else { return }
        let cluster = try await TestRedisCluster()
        defer { cluster.stop() }
        let env = ["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": cluster.url(seeds: [0]), "DEFENDER_CACHE_PREFIX": "demo"]
        try await withBothDemos(env, hummingbirdOnly: ["DEFENDER_REDIS_URL": cluster.url(seeds: [1, 2])]) { vapor, hummingbird in
            for attempt in 1...3 {
                #expect(try await vapor.send(.form("/login", [("username", "alice"), ("password", "no\(attempt)")])).status == 401)
            }
            #expect(try await hummingbird.send(.form("/login", [("username", "alice"), ("password", "no4")])).status == 403)
            #expect(try await vapor.send(.json("/api/login", #"{"username":"alice","password":"secret1"}"#)).status == 403)
            for site in [vapor, hummingbird] {
                let health = try await site.send(Probe(path: "/healthz"))
                #expect(health.body == #"{"primaries":3,"status":"ok","store":"redis","topology":"cluster"}"#, "\(site.name)")
            }
        }
    }

    /// A Vapor and a Hummingbird instance behind one balancer, on one Redis: a lock earned on either holds on both.
    @Test func oneRedisLocksAcrossFrameworks() async throws {
        guard let url = await SharedRedis.url else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("no Redis: run the tests with scripts/test") }
            return
        }
        let env = [
            "DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": url, "DEFENDER_CACHE_PREFIX": "hb-\(UUID().uuidString)",
            "DEFENDER_BEHIND_REVERSE_PROXY": "true",
        ]
        // The attack from one address, spread over both instances; the admin from another.
        let attacker = [("X-Forwarded-For", "203.0.113.66")]
        try await withBothDemos(env) { vapor, hummingbird in
            // Both instances listen for lifted blocks (their services run): two subscribers on the store's channel.
            let port = try #require(URLComponents(string: url)?.port)
            var subscribers = 0
            for _ in 0..<50 where subscribers < 2 {
                let reply = try await TestRedisSentinel.cli(port, ["PUBSUB", "NUMSUB", "\(env["DEFENDER_CACHE_PREFIX"]!):blocks"])
                subscribers = Int(reply.split(separator: "\n").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
                if subscribers < 2 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(subscribers == 2)
            for attempt in 1...2 {
                #expect(try await vapor.send(.form("/login", [("username", "alice"), ("password", "no\(attempt)")], headers: attacker)).status == 401)
            }
            #expect(try await hummingbird.send(.form("/login", [("username", "alice"), ("password", "no3")], headers: attacker)).status == 401)
            #expect(try await hummingbird.send(.form("/login", [("username", "alice"), ("password", "no4")], headers: attacker)).status == 403)
            #expect(try await vapor.send(.form("/login", [("username", "alice"), ("password", "secret1")])).status == 403)
            #expect(try await hummingbird.send(.json("/api/login", #"{"username":"alice","password":"secret1"}"#)).status == 403)
            let health = try await hummingbird.send(Probe(path: "/healthz"))
            #expect(health.body == #"{"status":"ok","store":"redis"}"#)
            // Lifted through the Hummingbird admin API, lifted for the Vapor instance too.
            let admin = [("Authorization", "Basic " + Data("root:rootpw1".utf8).base64EncodedString())]
            let blocks = try await hummingbird.send(Probe(path: "/admin/defender/api/blocks", headers: admin))
            #expect(blocks.body.contains(#""username":"alice""#))
            let unblock = try await hummingbird.send(.json("/admin/defender/api/unblock", #"{"username":"alice"}"#, headers: admin))
            #expect(unblock.status == 204)
            // Each instance remembers the blocks it has seen; the unblock reaches the other one within a second.
            var status: UInt = 403
            let started = ContinuousClock.now
            while status == 403, ContinuousClock.now - started < .seconds(1) {
                status = try await vapor.send(.form("/login", [("username", "alice"), ("password", "secret1")])).status
                if status == 403 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(status == 302)

            // And the other way: a lock earned on the Vapor instance alone holds on the Hummingbird one.
            let other = [("X-Forwarded-For", "203.0.113.67")]
            for attempt in 1...4 { _ = try await vapor.send(.json("/api/login", #"{"username":"carol","password":"x\#(attempt)"}"#, headers: other)) }
            #expect(try await hummingbird.send(.json("/api/login", #"{"username":"carol","password":"x"}"#, headers: [("X-Forwarded-For", "192.0.2.70")])).status == 403)
            #expect(try await hummingbird.send(.form("/login", [("username", "bob"), ("password", "x")], headers: other)).status == 403)
        }
    }

    /// The demo on PostgreSQL (`DATABASE_URL=postgres://…`): migrations, users, sessions and the audit log.
    @Test func postgres() async throws {
        try await withFreshPostgres { url in
            try await withBothDemos(["DEFENDER_USE_CELERY": "false"], hummingbirdOnly: ["DATABASE_URL": url]) { _, site in
                #expect(try await site.send(.form("/login", [("username", "alice"), ("password", "wrong")])).status == 401)
                #expect(try await site.send(.form("/login", [("username", "alice"), ("password", "secret1")])).status == 302)
                #expect(try await site.send(Probe(path: "/", withSession: true)).body.contains("Logged in as <strong>alice</strong>"))
                let admin = [("Authorization", "Basic " + Data("root:rootpw1".utf8).base64EncodedString())]
                let attempts = try await site.send(Probe(path: "/admin/defender/api/attempts?username=alice", headers: admin))
                #expect(attempts.body.components(separatedBy: #""username":"alice""#).count - 1 == 2, "\(attempts.body)")
            }
        }
    }

    /// `DEFENDER_NOTIFY_WEBHOOK_URL`: each block is POSTed as JSON, from the event task (Vapor's body).
    @Test func blocksReachTheWebhook() async throws {
        struct Payload: Decodable { var event: String; var kind: String; var key: String; var time: String; var cause: String? }
        let received = Mutex<[String]>([])
        let router = Router()
        router.post("hook") { request, context -> HTTPResponse.Status in
            let payload = try await request.decode(as: Payload.self, context: context)
            #expect(request.headers[.contentType] == "application/json; charset=utf-8" && ISO8601DateFormatter().date(from: payload.time) != nil)
            received.withLock { $0.append("\(payload.event) \(payload.kind) \(payload.key) \(payload.cause ?? "-")") }
            return .noContent
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))) { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
        }
        let group = ServiceGroup(configuration: .init(services: [receiver], logger: Logger(label: "hook")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await withServedHummingbird(["DEFENDER_NOTIFY_WEBHOOK_URL": "http://127.0.0.1:\(port)/hook"]) { _, site in
                for attempt in 1...4 { _ = try await site.send(.form("/login", [("username", "alice"), ("password", "no\(attempt)")])) }
                for _ in 0..<250 where received.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(20)) }
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(Set(received.withLock { $0 }) == ["ipBlocked ip 127.0.0.1 counter", "usernameBlocked username alice counter"])
    }

    /// A bad `DATABASE_URL` or setting stops start-up with what to fix, and never echoes a password.
    @Test func badSettingsSayWhatToFix() async throws {
        let cases: [([String: String], String)] = [
            (["DATABASE_URL": "mysql://u:hunter2@h/db"], "DATABASE_URL"),
            (["DATABASE_URL": "postgres://u:hunter2@[bad"], "DATABASE_URL"),
            (["DEFENDER_LOGIN_FAILURE_LIMIT": "many"], "DEFENDER_LOGIN_FAILURE_LIMIT"),
            (["DEMO_BCRYPT_COST": "99"], "DEMO_BCRYPT_COST"),
            (["DEFENDER_LOCKOUT_TEMPLATE": "mine.mustache", "DATABASE_URL": "sqlite::memory:"], "DEFENDER_LOCKOUT_TEMPLATE"),
        ]
        for (environment, variable) in cases {
            let error = await #expect(throws: DefenderError.self) { let demo = try await HummingbirdDemo.make(environment: environment); await demo.shutdown() }
            #expect(error?.description.contains(variable) == true, "\(String(describing: error))")
            #expect(error?.description.contains("hunter2") == false)
        }
    }
}
