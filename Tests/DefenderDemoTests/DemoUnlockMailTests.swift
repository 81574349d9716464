@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import NIOCore
import NIOPosix
import Testing
import Vapor

/// The unlock e-mail through both demos over HTTP, with a real SMTP server (aiosmtpd, STARTTLS and AUTH, started by
/// `scripts/test`): a botnet locks carol; she is mailed once; the link's GET changes nothing, its POST unlocks her,
/// and it never works twice or altered; an account without an address, and a dead mail server, leave every login
/// answered as before.
@Suite(.serialized) struct DemoUnlockMailTests {
    typealias Store = DemoStore

    static let secret = "demo-unlock-key-0123456789-abcdefghijklmn"

    static func environment(_ store: Store, smtp: String) async -> [String: String]? {
        await store.environment(
            ["DEFENDER_SECRET_KEY": secret, "DEFENDER_SMTP_URL": smtp, "DEFENDER_MAIL_FROM": "security@demo.example"], prefix: "unlock")
    }

    /// The path of the link in an unlock e-mail, and the whole link.
    static func link(in body: String) throws -> (path: String, link: String) {
        let range = try #require(body.range(of: "http://[^\\s]+/unlock/[^\\s]+", options: .regularExpression))
        let link = String(body[range])
        let path = try #require(link.range(of: "/unlock/")).lowerBound
        return (String(link[path...]), link)
    }

    static func botnet(_ demo: Demo, _ username: String, network: Int = 100) async throws -> [HTTPResponseStatus] {
        var statuses: [HTTPResponseStatus] = []
        for bot in 1...4 { statuses.append(try await demo.login(username, "guess\(bot)", forwardedFor: "198.51.\(network).\(bot)").status) }
        return statuses
    }

    static func counted(_ demo: Demo, _ result: String) async throws -> Double {
        DemoBeyondTests.parsePrometheus(try await demo.send(.GET, "/metrics").text)["defender_unlock_mails_total{result=\"\(result)\"}"] ?? 0
    }

    static func waitForCount(_ demo: Demo, _ result: String, _ count: Double) async throws {
        for _ in 0..<250 {
            if try await counted(demo, result) >= count { return }
            try await Task.sleep(for: .milliseconds(40))
        }
        Issue.record("defender_unlock_mails_total{result=\"\(result)\"} did not reach \(count)")
    }

    @Test(arguments: DemoFramework.allCases, Store.allCases)
    func aLockedOwnerUnlocksHerAccountFromTheMail(_ framework: DemoFramework, _ store: Store) async throws {
        guard let smtp = TestSMTPServer.shared, let env = await Self.environment(store, smtp: smtp.url) else { return }
        let address = TestSMTPServer.freshAddress("carol")
        try await withDemo(env, on: framework) { (demo) async throws in
            try await demo.createUser("carol", "secret3", email: address)
            #expect(try await Self.botnet(demo, "carol") == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
            let mails = try await smtp.waitForMessages(to: address)
            try #require(mails.count == 1)
            #expect(mails[0].headers["x-was-tls"] == "True" && mails[0].headers["x-envelope-from"] == "security@demo.example")
            let (path, link) = try Self.link(in: mails[0].body)
            #expect(link.hasPrefix("http://127.0.0.1:"), "the default base is the address the demo listens on: \(link)")

            // GET shows a button and changes nothing (mail scanners fetch links).
            let page = try await demo.send(.GET, path)
            #expect(page.status == .ok && page.text.contains("<form method=\"post\"") && page.text.contains("carol"))
            #expect(page.headers.first(name: .cacheControl) == "no-store" && page.headers.first(name: "Referrer-Policy") == "no-referrer")
            #expect(try await demo.login("carol", "secret3", forwardedFor: "192.0.2.10").status == .forbidden)

            var altered = Array(path.utf8)
            altered[altered.count - 4] = altered[altered.count - 4] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            #expect(try await demo.post(String(decoding: altered, as: UTF8.self), body: "", contentType: "application/x-www-form-urlencoded").status == .badRequest)
            #expect(try await demo.login("carol", "secret3", forwardedFor: "192.0.2.10").status == .forbidden)

            let unlocked = try await demo.post(path, body: "", contentType: "application/x-www-form-urlencoded")
            #expect(unlocked.status == .ok && unlocked.text.contains("unlocked"))
            #expect(try await demo.login("carol", "secret3", forwardedFor: "192.0.2.10").status == .found)
            #expect(try await demo.post(path, body: "", contentType: "application/x-www-form-urlencoded").status == .gone)
            #expect(try await demo.send(.GET, "/unlock/garbage").status == .badRequest)
            #expect(smtp.messages(to: address).count == 1, "one mail per lockout")
            try await Self.waitForCount(demo, "sent", 1)
        }
    }

    /// Redis is demoted to a replica (`READONLY`) between the mail and the click: the redemption is an outage, a
    /// `503` with `Retry-After`, not "already used" (this instance's memory does not know the link), and the link
    /// stays unused: once Redis can write again the same link unlocks carol, once.
    @Test(arguments: DemoFramework.allCases)
    func aLinkClickedWhileRedisIsReadOnlyStaysUnused(_ framework: DemoFramework) async throws {
        guard let smtp = TestSMTPServer.shared, RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let address = TestSMTPServer.freshAddress("carol")
        var env = DemoRedisFaultTests.environment(server.port, "unlock-readonly")
        env.merge(["DEFENDER_SECRET_KEY": Self.secret, "DEFENDER_SMTP_URL": smtp.url, "DEFENDER_MAIL_FROM": "security@demo.example",
            "DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { $1 }
        try await withDemo(env, on: framework) { (demo) async throws in
            try await demo.createUser("carol", "secret3", email: address)
            #expect(try await Self.botnet(demo, "carol") == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
            let (path, _) = try Self.link(in: try #require(try await smtp.waitForMessages(to: address).first).body)
            let admin = try await RedisConnection.connect(to: try RedisConfiguration(url: server.url))
            _ = try await admin.send(["REPLICAOF", "127.0.0.1", "1"])
            for click in 1...2 {
                let refused = try await demo.post(path, body: "", contentType: "application/x-www-form-urlencoded")
                #expect(refused.status == .serviceUnavailable, "click \(click) while read-only: \(refused.status)")
                #expect(refused.headers.first(name: .retryAfter) != nil && refused.headers.first(name: .cacheControl) == "no-store")
            }
            #expect(try await demo.login("carol", "secret3", forwardedFor: "192.0.2.40").status == .forbidden)
            _ = try await admin.send(["REPLICAOF", "NO", "ONE"])
            await admin.close()
            // The circuit is retried after a second; the same link then works, once.
            #expect(try await eventually(within: .seconds(10), every: .milliseconds(200)) {
                try await demo.post(path, body: "", contentType: "application/x-www-form-urlencoded").status == .ok
            })
            #expect(try await demo.login("carol", "secret3", forwardedFor: "192.0.2.41").status == .found)
            #expect(try await demo.post(path, body: "", contentType: "application/x-www-form-urlencoded").status == .gone)
        }
    }

    /// alice has no address: her lockout mails nothing (counted as `no_address`), and her logins answer as ever.
    @Test(arguments: DemoFramework.allCases)
    func anAccountWithoutAnAddressGetsNoMail(_ framework: DemoFramework) async throws {
        guard let smtp = TestSMTPServer.shared, let env = await Self.environment(.memory, smtp: smtp.url) else { return }
        try await withDemo(env, on: framework) { (demo) async throws in
            #expect(try await Self.botnet(demo, "alice") == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
            try await Self.waitForCount(demo, "no_address", 1)
            #expect(try await Self.counted(demo, "sent") == 0)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.20").status == .forbidden)
        }
    }

    /// The mail server is down (a port nobody listens on): carol's lockout is answered as usual, the failed mail is
    /// counted, and the other logins go on.
    @Test(arguments: DemoFramework.allCases)
    func aDeadMailServerLeavesLoginsAlone(_ framework: DemoFramework) async throws {
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress?.port ?? 1
        try await probe.close()
        guard let env = await Self.environment(.memory, smtp: "smtp://127.0.0.1:\(port)") else { return }
        try await withDemo(env, on: framework) { (demo) async throws in
            try await demo.createUser("carol", "secret3", email: "carol@demo.example")
            #expect(try await Self.botnet(demo, "carol") == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.30").status == .found)
            try await Self.waitForCount(demo, "failed", 1)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.31").status == .found)
            #expect(try await demo.login("carol", "secret3", forwardedFor: "192.0.2.32").status == .forbidden)
        }
    }

    /// Both executables: `create-user --email` stores the address (and refuses one that is not), and the link's
    /// default base is the address `serve --hostname --port` listens on, not a default port.
    @Test(arguments: DemoFramework.allCases)
    func theServedDemosMailALinkToTheirOwnAddress(_ framework: DemoFramework) async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        let address = TestSMTPServer.freshAddress("erin")
        let settings = [
            "DEFENDER_SECRET_KEY": Self.secret, "DEFENDER_SMTP_URL": smtp.url, "DEFENDER_MAIL_FROM": "security@demo.example",
            "DEFENDER_BEHIND_REVERSE_PROXY": "true",
        ]
        try await withDemoFiles(framework, settings) { executable, env, _ in
            let (status, output) = try await DemoProcess.run(executable, ["create-user", "bad", "secret5", "--email", "not-an-address"], environment: env)
            #expect(status != 0 && output.contains("not an e-mail address"), "\(output)")
            try await DemoProcess.runToEnd(executable, ["create-user", "erin", "secret5", "--email", address], environment: env)
            let server = try await DemoProcess(executable, environment: env)
            defer { server.stop() }
            var statuses: [Int] = []
            for bot in 1...4 { statuses += try await HTTPStorm.run([.login(server.base, "erin", "guess", from: "198.51.100.\(bot)")]) }
            #expect(statuses == [401, 401, 401, 403])
            let mail = try #require(try await smtp.waitForMessages(to: address).first)
            #expect(try Self.link(in: mail.body).link.hasPrefix(server.base + "/unlock/1."), "\(mail.body)")
        }
    }
}
