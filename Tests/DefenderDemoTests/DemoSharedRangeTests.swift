import DefenderCore
import DefenderTesting
import DefenderVapor
import Foundation
import Testing
import Vapor

/// Shared addresses through the demos' HTTP routes, on the memory store and on Redis: a client in 100.64.0.0/10 (the
/// built-in carrier-grade NAT range) is counted by (address, username) pair in the IP dimension.
@Suite(.serialized) struct DemoSharedRangeTests {
    typealias Store = DemoStore

    static func environment(_ store: Store) async -> [String: String]? { await store.environment(prefix: "shared") }

    /// The issue's scenario: from one shared address an attacker fails once on each of 10 usernames while 5 other
    /// users behind it log in; guessing one username there locks that username (everywhere) and his pair, not the
    /// address; the admin API lists the pair and unblocks it by address and username; an address outside the
    /// shared ranges still locks as before; the metric counts the pair lockout as `pair`.
    @Test(arguments: DemoFramework.allCases, Store.allCases)
    func anAttackerBehindASharedAddressLocksOnlyWhatHeAttacks(_ framework: DemoFramework, _ store: Store) async throws {
        guard let env = await Self.environment(store) else { return }
        let members = (0..<5).map { ("member\($0)", "pw\($0)") }
        try await withDemo(env, users: [("alice", "secret1")] + members, on: framework) { (demo) async throws in
            try await demo.createUser("root", "rootpw", admin: true)
            let nat = "100.64.12.34"
            for index in 0..<10 {
                #expect(try await demo.login("guess\(index)", "wrong", forwardedFor: nat).status == .unauthorized, "guess \(index)")
            }
            for (name, password) in members {
                #expect(try await demo.login(name, password, forwardedFor: nat).status == .found, "\(name)")
            }

            for attempt in 0..<3 { #expect(try await demo.login("alice", "wrong", forwardedFor: nat).status == .unauthorized, "\(attempt)") }
            #expect(try await demo.login("alice", "wrong", forwardedFor: nat).status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "203.0.113.40").status == .forbidden)  // the username
            #expect(try await demo.login("member0", "pw0", forwardedFor: nat).status == .found)  // not the address

            let admin: HTTPHeaders = ["Authorization": "Basic " + Data("root:rootpw".utf8).base64EncodedString()]
            let report = try JSONDecoder().decode(BlocksReport.self, from: Data(try await demo.send(.GET, "/admin/defender/api/blocks", headers: admin).text.utf8))
            #expect(report.ips.isEmpty && report.usernames.map(\.username) == ["alice"])
            #expect(report.pairs.map { "\($0.ip)|\($0.username)" } == ["\(nat)|alice"])
            let unblock = try await demo.post(
                "/admin/defender/api/unblock", body: #"{"ip":"\#(nat)","username":"alice"}"#, contentType: "application/json", headers: admin)
            #expect(unblock.status == .noContent)
            let after = try JSONDecoder().decode(BlocksReport.self, from: Data(try await demo.send(.GET, "/admin/defender/api/blocks", headers: admin).text.utf8))
            #expect(after.pairs.isEmpty && after.usernames.map(\.username) == ["alice"])

            let outside = "198.51.100.40"
            var statuses: [HTTPResponseStatus] = []
            for index in 0..<4 { statuses.append(try await demo.login("other\(index)", "wrong", forwardedFor: outside).status) }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
            #expect(try await demo.login("member1", "pw1", forwardedFor: outside).status == .forbidden)

            let counted = DemoBeyondTests.parsePrometheus(try await demo.send(.GET, "/metrics").text)
            #expect(counted["defender_lockouts_total{kind=\"pair\"}"] == 1)
            #expect(counted["defender_lockouts_total{kind=\"ip\"}"] == 1)  // the outside address
        }
    }

    /// `DEFENDER_SHARED_IP_RANGES` adds ranges (an IPv6 one here), `DEFENDER_SHARED_IP_RANGES_BUILTIN=false` drops
    /// the carrier-grade NAT range: that address then locks as a whole again.
    @Test(arguments: DemoFramework.allCases)
    func configuredRangesAndTheBuiltInOne(_ framework: DemoFramework) async throws {
        var env = await Self.environment(.memory) ?? [:]
        env["DEFENDER_SHARED_IP_RANGES"] = "2001:db8:cafe::/48"
        env["DEFENDER_SHARED_IP_RANGES_BUILTIN"] = "false"
        try await withDemo(env, users: [("bob", "b0b")], on: framework) { (demo) async throws in
            for index in 0..<4 {
                #expect(try await demo.login("guess\(index)", "wrong", forwardedFor: "2001:db8:cafe::7").status == .unauthorized)
            }
            #expect(try await demo.login("bob", "b0b", forwardedFor: "2001:db8:cafe::7").status == .found)
            var statuses: [HTTPResponseStatus] = []
            for index in 0..<4 { statuses.append(try await demo.login("guess\(index)", "wrong", forwardedFor: "100.64.0.9").status) }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
        }
    }

    /// `DEFENDER_SHARED_IP_RANGES_FILE` is loaded at start and reloaded when it changes; a file that turns bad keeps
    /// the ranges in force; a bad file at start stops start-up naming the variable.
    @Test(arguments: DemoFramework.allCases)
    func theSharedRangesFileIsLoadedAndReloaded(_ framework: DemoFramework) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# the office proxy\n192.0.2.0/24\n".write(toFile: path, atomically: true, encoding: .utf8)
        var env = await Self.environment(.memory) ?? [:]
        env["DEFENDER_SHARED_IP_RANGES_FILE"] = path
        env["DEFENDER_IP_DENYLIST_RELOAD_INTERVAL"] = "1"
        try await withDemo(env, users: [("bob", "b0b")], on: framework) { (demo) async throws in
            // Shared: four usernames fail once each, and bob still gets in from there.
            for index in 0..<4 { #expect(try await demo.login("a\(index)", "wrong", forwardedFor: "192.0.2.10").status == .unauthorized) }
            #expect(try await demo.login("bob", "b0b", forwardedFor: "192.0.2.10").status == .found)

            try "198.18.0.0/15\n".write(toFile: path, atomically: true, encoding: .utf8)
            // Whether an address counts pairs: four usernames fail once each; a fourth failure that is no lockout.
            func isShared(_ address: String) async throws -> Bool {
                var last = HTTPResponseStatus.ok
                for index in 0..<4 { last = try await demo.login("probe-\(address)-\(index)", "wrong", forwardedFor: address).status }
                return last == .unauthorized
            }
            var swapped = false
            for round in 0..<100 where !swapped {
                try await Task.sleep(for: .milliseconds(100))
                swapped = try await isShared("198.18.\(round / 200).\(round % 200 + 1)")
            }
            #expect(swapped, "the changed file was not reloaded within 10 s")
            var statuses: [HTTPResponseStatus] = []
            for index in 0..<4 { statuses.append(try await demo.login("b\(index)", "wrong", forwardedFor: "192.0.2.11").status) }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .forbidden])

            try "198.18.0.0/15\nnot-a-range\n".write(toFile: path, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(2_500))
            for index in 0..<4 { #expect(try await demo.login("c\(index)", "wrong", forwardedFor: "198.19.0.1").status == .unauthorized) }
        }
        try "10.0.0.1\n10.0.0.256\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = await #expect(throws: DefenderError.self) {
            try await withDemo(["DEFENDER_SHARED_IP_RANGES_FILE": path], on: framework) { demo in
                if demo.framework == .vapor { try await demo.app.asyncBoot() }
            }
        }
        #expect(error?.setting == "DEFENDER_SHARED_IP_RANGES_FILE" && error?.message.contains("line 2") == true, "\(String(describing: error))")
    }
}
