import DefenderCore
import DefenderTesting
import DefenderVapor
import Foundation
import Testing
import Vapor

/// Device cookies through both demos' HTTP routes (form, JSON and Basic logins), on the memory store and on Redis:
/// a botnet that locks alice's username does not lock out the browser she logged in from before.
@Suite(.serialized) struct DemoDeviceCookieTests {
    typealias Store = DemoStore

    static let keyA = "demo-device-key-A-0123456789-abcdefghij"
    static let keyB = "demo-device-key-B-0123456789-abcdefghij"

    static func environment(_ store: Store, keys: String? = keyA) async -> [String: String]? {
        await store.environment(keys.map { ["DEFENDER_SECRET_KEY": $0] } ?? [:], prefix: "device")
    }

    /// A cookie issued the way the demo issues them, under `keys` (the first signs).
    static func cookie(for username: String, keys: [String]) throws -> String {
        var config = DefenderConfiguration()
        config.secretKeys = keys.map(DefenderSecret.init)
        return try #require(DeviceCookies(configuration: config)).issue(for: try #require(DefenderKey.username(username)))
    }

    static func verifies(_ value: String, for username: String, keys: [String]) throws -> Bool {
        var config = DefenderConfiguration()
        config.secretKeys = keys.map(DefenderSecret.init)
        return try #require(DeviceCookies(configuration: config)).device(from: value, for: try #require(DefenderKey.username(username))) != nil
    }

    /// The device cookie a response sets, with its attributes.
    static func deviceCookie(_ response: DemoResponse) -> (value: String, attributes: String)? {
        for field in response.headers[.setCookie] where field.hasPrefix("defender_device=") {
            let rest = field.dropFirst("defender_device=".count)
            let value = rest.prefix { $0 != ";" }
            return (String(value), String(rest.dropFirst(value.count)))
        }
        return nil
    }

    static func carrying(_ cookie: String, _ more: HTTPHeaders = [:]) -> HTTPHeaders {
        var headers = more
        headers.add(name: .cookie, value: "theme=dark; defender_device=\(cookie)")
        return headers
    }

    static func basic(_ credentials: String) -> HTTPHeaders {
        ["Authorization": "Basic " + Data(credentials.utf8).base64EncodedString()]
    }

    /// The issue's scenario: alice and bob log in once (each gets a device cookie beside the session cookie); four
    /// addresses lock alice's username; her right password from a new address without the cookie is refused; her
    /// browser's cookie gets in from another new address through the form, the JSON login and Basic; bob's cookie,
    /// an altered one and one signed by an unknown key get nothing; the username stays locked, and the metric counts
    /// the trusted logins during the lockout.
    @Test(arguments: DemoFramework.allCases, Store.allCases)
    func aBotnetCannotLockTheOwnersBrowserOut(_ framework: DemoFramework, _ store: Store) async throws {
        guard let env = await Self.environment(store) else { return }
        try await withDemo(env, users: [("alice", "secret1"), ("bob", "secret2")], on: framework) { (demo) async throws in
            try await demo.createUser("root", "rootpw", admin: true)
            let home = try await demo.login("alice", "secret1", forwardedFor: "203.0.113.10")
            #expect(home.status == .found)
            let hers = try #require(Self.deviceCookie(home))
            #expect(hers.attributes == "; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax")
            #expect(home.headers[.setCookie].contains { $0.hasPrefix("defender-demo-session=") }, "the session cookie is kept beside it")
            #expect(try Self.verifies(hers.value, for: "alice", keys: [Self.keyA]))
            let bobs = try #require(Self.deviceCookie(try await demo.login("bob", "secret2", forwardedFor: "203.0.113.11"))).value

            var botnet: [HTTPResponseStatus] = []
            for bot in 1...4 { botnet.append(try await demo.login("alice", "guess\(bot)", forwardedFor: "198.51.100.\(bot)").status) }
            #expect(botnet == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.50").status == .forbidden)

            let form = try await demo.login("alice", "secret1", forwardedFor: "192.0.2.60", headers: Self.carrying(hers.value))
            #expect(form.status == .found)
            #expect(Self.deviceCookie(form).map { $0.value != hers.value } == true, "a fresh device on every success")
            #expect(try await demo.apiLogin("alice", "secret1", forwardedFor: "192.0.2.61", headers: Self.carrying(hers.value)).status == .ok)
            let me = try await demo.send(.GET, "/api/me", forwardedFor: "192.0.2.62", headers: Self.carrying(hers.value, Self.basic("alice:secret1")))
            #expect(me.status == .ok && me.text.contains("alice"))

            var altered = Array(hers.value.utf8)
            altered[altered.count - 5] = altered[altered.count - 5] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
            for (label, cookie) in [
                ("bob's", bobs), ("altered", String(decoding: altered, as: UTF8.self)), ("another key's", try Self.cookie(for: "alice", keys: [Self.keyB])),
            ] {
                #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.70", headers: Self.carrying(cookie)).status == .forbidden, "\(label)")
                #expect(try await demo.apiLogin("alice", "secret1", forwardedFor: "192.0.2.71", headers: Self.carrying(cookie)).status == .forbidden, "\(label)")
            }

            let report = try JSONDecoder().decode(
                BlocksReport.self, from: Data(try await demo.send(.GET, "/admin/defender/api/blocks", headers: Self.basic("root:rootpw")).text.utf8))
            #expect(report.usernames.map(\.username) == ["alice"] && report.devices.isEmpty)
            let counted = DemoBeyondTests.parsePrometheus(try await demo.send(.GET, "/metrics").text)
            #expect(counted["defender_trusted_logins_during_lockout_total"] == 3)
        }
    }

    /// Guesses through a device cookie lock that device (four addresses, so no address reaches its limit): the
    /// metric counts a `device` lockout, the admin API lists and unblocks it, and alice's username was never
    /// counted — the locked device is then judged like any other client.
    @Test(arguments: DemoFramework.allCases, Store.allCases)
    func guessesThroughADeviceCookieLockThatDevice(_ framework: DemoFramework, _ store: Store) async throws {
        guard let env = await Self.environment(store) else { return }
        try await withDemo(env, on: framework) { (demo) async throws in
            try await demo.createUser("root", "rootpw", admin: true)
            let stolen = try #require(Self.deviceCookie(try await demo.login("alice", "secret1", forwardedFor: "203.0.113.20"))).value
            var guesses: [HTTPResponseStatus] = []
            for index in 1...4 {
                guesses.append(try await demo.login("alice", "guess\(index)", forwardedFor: "198.51.100.\(20 + index)", headers: Self.carrying(stolen)).status)
            }
            #expect(guesses == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
            let admin = Self.basic("root:rootpw")
            let report = try JSONDecoder().decode(BlocksReport.self, from: Data(try await demo.send(.GET, "/admin/defender/api/blocks", headers: admin).text.utf8))
            #expect(report.usernames.isEmpty && report.ips.isEmpty && report.devices.count == 1)
            let counted = DemoBeyondTests.parsePrometheus(try await demo.send(.GET, "/metrics").text)
            #expect(counted["defender_lockouts_total{kind=\"device\"}"] == 1)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "198.51.100.30", headers: Self.carrying(stolen)).status == .found)

            let device = try #require(report.devices.first).device
            let bad = try await demo.post("/admin/defender/api/unblock", body: #"{"device":"not-a-device"}"#, contentType: "application/json", headers: admin)
            #expect(bad.status == .badRequest)
            let unblock = try await demo.post("/admin/defender/api/unblock", body: #"{"device":"\#(device)"}"#, contentType: "application/json", headers: admin)
            #expect(unblock.status == .noContent)
            let after = try JSONDecoder().decode(BlocksReport.self, from: Data(try await demo.send(.GET, "/admin/defender/api/blocks", headers: admin).text.utf8))
            #expect(after.devices.isEmpty)
        }
    }

    /// Key rotation: with `DEFENDER_SECRET_KEY=B,A` a cookie signed by A still gets alice in during a lockout,
    /// and the new cookie is signed by B.
    @Test(arguments: DemoFramework.allCases)
    func rotatingTheKeyKeepsOldCookies(_ framework: DemoFramework) async throws {
        guard let env = await Self.environment(.memory, keys: "\(Self.keyB),\(Self.keyA)") else { return }
        try await withDemo(env, on: framework) { (demo) async throws in
            for bot in 1...4 { _ = try await demo.login("alice", "guess", forwardedFor: "198.51.100.\(40 + bot)") }
            let old = try Self.cookie(for: "alice", keys: [Self.keyA])
            let answer = try await demo.login("alice", "secret1", forwardedFor: "192.0.2.90", headers: Self.carrying(old))
            #expect(answer.status == .found)
            let new = try #require(Self.deviceCookie(answer)).value
            #expect(try Self.verifies(new, for: "alice", keys: [Self.keyB]) && !(try Self.verifies(new, for: "alice", keys: [Self.keyA])))
        }
    }

    /// Without `DEFENDER_SECRET_KEY` no device cookie is set, and one made with any key changes nothing.
    @Test(arguments: DemoFramework.allCases)
    func noCookieWithoutTheSecret(_ framework: DemoFramework) async throws {
        guard let env = await Self.environment(.memory, keys: nil) else { return }
        try await withDemo(env, on: framework) { (demo) async throws in
            let success = try await demo.login("alice", "secret1", forwardedFor: "203.0.113.50")
            #expect(success.status == .found && Self.deviceCookie(success) == nil)
            for bot in 1...4 { _ = try await demo.login("alice", "guess", forwardedFor: "198.51.100.\(50 + bot)") }
            let cookie = try Self.cookie(for: "alice", keys: [Self.keyA])
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.95", headers: Self.carrying(cookie)).status == .forbidden)
        }
    }
}
