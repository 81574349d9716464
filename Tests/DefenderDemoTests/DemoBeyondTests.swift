import DefenderDemoApp
import DefenderFluent
import DefenderTesting
import DefenderVapor
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Beyond django-defender, through the demo's HTTP routes: allow and deny lists (IPv4 and IPv6, the list
/// file and its reload), password spraying, the success-reset attack, cap and jitter, RateLimit headers,
/// dry run and GET /metrics.
@Suite struct DemoBeyondTests {
    static let proxy = ["DEFENDER_BEHIND_REVERSE_PROXY": "true"]

    func metrics(_ demo: Demo) async throws -> [String: Double] {
        let response = try await demo.send(.GET, "/metrics")
        #expect(response.status == .ok)
        #expect(response.headers.contentType?.type == "text" && response.headers.contentType?.subType == "plain")
        return Self.parsePrometheus(response.text)
    }

    /// `name{labels} value` lines into a dictionary (comments skipped); fails the test on a malformed line.
    static func parsePrometheus(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                Issue.record("not a Prometheus sample line: \(line)")
                continue
            }
            values[String(line[..<space])] = value
        }
        return values
    }

    // MARK: Lists

    @Test(arguments: DemoFramework.allCases) func denyListRefusesIPv4AndIPv6RangesBeforeThePasswordCheck(_ framework: DemoFramework) async throws {
        let env = Self.proxy.merging(["DEFENDER_IP_DENYLIST": "203.0.113.0/24, 2001:db8:bad::/48", "DEFENDER_IP_ALLOWLIST": "203.0.113.7"]) { $1 }
        try await withDemo(env, on: framework) { (demo) async throws in
            for ip in ["203.0.113.9", "203.0.113.7", "2001:db8:bad:1::5", "2001:db8:bad::"] {  // deny wins over allow
                let response = try await demo.login("alice", "secret1", forwardedFor: ip)
                #expect(response.status == .forbidden, "\(ip)")
                #expect(response.retryAfter == nil && response.text.contains("not allowed"), "\(ip)")
                let api = try await demo.apiLogin("alice", "secret1", forwardedFor: ip)
                #expect(api.status == .forbidden && api.headers.contentType?.subType == "problem+json")
            }
            for ip in ["203.0.114.1", "2001:db8:bae::1"] {
                #expect(try await demo.login("alice", "secret1", forwardedFor: ip).status == .found, "\(ip)")
            }
            let counted = try await metrics(demo)
            #expect(counted["defender_logins_total{outcome=\"denied\"}"] == 8)
            #expect(counted["defender_logins_total{outcome=\"success\"}"] == 2)  // no password check for the 8
            #expect(counted["defender_logins_total{outcome=\"failure\"}"] ?? 0 == 0)
        }
    }

    @Test(arguments: DemoFramework.allCases) func allowListedClientsAreNeverLockedButAreLogged(_ framework: DemoFramework) async throws {
        let env = Self.proxy.merging(["DEFENDER_IP_ALLOWLIST": "198.51.100.0/24,2001:db8:a11::/48", "DEFENDER_USERNAME_ALLOWLIST": "kiosk"]) { $1 }
        try await withDemo(env, users: [("alice", "secret1"), ("kiosk", "k1osk")], on: framework) { (demo) async throws in
            for ip in ["198.51.100.20", "2001:db8:a11:5::9"] {
                for _ in 0..<8 { #expect(try await demo.login("alice", "wrong", forwardedFor: ip).status == .unauthorized, "\(ip)") }
                #expect(try await demo.login("alice", "secret1", forwardedFor: ip).status == .found, "\(ip)")
            }
            for _ in 0..<8 { #expect(try await demo.login("KIOSK", "wrong", forwardedFor: "192.0.2.80").status == .unauthorized) }
            #expect(try await demo.login("kiosk", "k1osk", forwardedFor: "192.0.2.80").status == .found)
            // Nothing counted, everything in the audit log.
            let engine = try demo.engine()
            #expect(try await engine.store.state(of: engine.usernameKey("alice")).failures == 0)
            #expect(try await engine.store.state(of: engine.ipKey("192.0.2.80")).failures == 0)
            await demo.flushAuditLog()
            #expect(try await AccessAttempt.query(on: demo.database).count() == 27)
            #expect(try await AccessAttempt.query(on: demo.database).filter(\.$loginValid == false).count() == 24)
            // Others still lock.
            for _ in 0..<3 { try await demo.login("alice", "wrong", forwardedFor: "192.0.2.81") }
            #expect(try await demo.login("alice", "wrong", forwardedFor: "192.0.2.81").status == .forbidden)
        }
    }

    @Test(arguments: DemoFramework.allCases) func usernameDenyList(_ framework: DemoFramework) async throws {
        try await withDemo(Self.proxy.merging(["DEFENDER_USERNAME_DENYLIST": "root,Administrator"]) { $1 }, users: [("alice", "secret1"), ("root", "toor")], on: framework) { (demo) async throws in
            #expect(try await demo.login(" ROOT ", "toor", forwardedFor: "192.0.2.90").status == .forbidden)
            #expect(try await demo.apiLogin("administrator", "x", forwardedFor: "192.0.2.90").status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.90").status == .found)
        }
    }

    @Test(arguments: DemoFramework.allCases) func denyListFileIsLoadedAndReloaded(_ framework: DemoFramework) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("denylist-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# open proxies\n192.0.2.0/24\n2001:db8:dead::/48  # a v6 range\n".write(toFile: path, atomically: true, encoding: .utf8)
        let env = Self.proxy.merging(["DEFENDER_IP_DENYLIST_FILE": path, "DEFENDER_IP_DENYLIST_RELOAD_INTERVAL": "1"]) { $1 }
        try await withDemo(env, on: framework) { (demo) async throws in
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.5").status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "2001:db8:dead:1::1").status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "198.18.0.1").status == .found)

            try "198.18.0.0/15\n".write(toFile: path, atomically: true, encoding: .utf8)
            var swapped = false
            for _ in 0..<100 where !swapped {
                try await Task.sleep(for: .milliseconds(100))
                swapped = try await demo.login("alice", "secret1", forwardedFor: "198.18.0.1").status == .forbidden
            }
            #expect(swapped, "the changed file was not reloaded within 10 s")
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.5").status == .found)

            // A file that turns bad keeps the list in force.
            try "198.18.0.0/15\nnot-an-address\n".write(toFile: path, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(try await demo.login("alice", "secret1", forwardedFor: "198.18.0.1").status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.5").status == .found)
        }
    }

    @Test(arguments: DemoFramework.allCases) func badDenyListFileStopsStartUp(_ framework: DemoFramework) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("denylist-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "10.0.0.1\n10.0.0.256\n".write(toFile: path, atomically: true, encoding: .utf8)
        for (file, fragment) in [(path, "line 2: '10.0.0.256'"), ("/nonexistent/denylist.txt", "cannot read")] {
            // Start-up stops: where the demo builds its engine (Vapor: in configure, or at boot in an app that does not).
            let error = await #expect(throws: DefenderError.self) {
                try await withDemo(["DEFENDER_IP_DENYLIST_FILE": file], on: framework) { demo in
                    if demo.framework == .vapor { try await demo.app.asyncBoot() }
                }
            }
            #expect(error?.setting == "DEFENDER_IP_DENYLIST_FILE" && error?.message.contains(fragment) == true, "\(String(describing: error))")
        }
    }

    // MARK: Spraying and the success reset

    /// One IP, 20 usernames, one wrong password each, spray limit 5 (the IP limit raised for a shared address).
    @Test(arguments: DemoFramework.allCases, ["192.0.2.150", "2001:db8:77::1"])
    func sprayingIsBlocked(_ framework: DemoFramework, ip: String) async throws {
        let env = Self.proxy.merging(["DEFENDER_LOGIN_FAILURE_LIMIT_IP": "100", "DEFENDER_SPRAY_USERNAME_LIMIT": "5"]) { $1 }
        try await withDemo(env, on: framework) { (demo) async throws in
            var statuses: [UInt] = []
            for index in 1...20 { statuses.append(try await demo.login("user\(index)", "Winter2026!", forwardedFor: ip).status.code) }
            #expect(statuses == Array(repeating: 401, count: 5) + Array(repeating: 403, count: 15))
            #expect(try await demo.login("alice", "secret1", forwardedFor: ip).status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.151").status == .found)  // others unaffected
            let counted = try await metrics(demo)
            #expect(counted["defender_lockouts_total{kind=\"spray\"}"] == 1)
            #expect(counted["defender_logins_total{outcome=\"failure\"}"] == 6)  // 5 failures + the one that crossed
        }
    }

    /// An attacker who owns one account logs into it between guesses at others. django-defender's reset
    /// (`all`) wipes his IP's counter each time: every guess gets a password check. The default (`own`) only
    /// forgives his own account's failures: his IP is blocked after the limit, his own logins included.
    @Test(arguments: DemoFramework.allCases) func successResetAttack(_ framework: DemoFramework) async throws {
        let victims = (1...8).map { "victim\($0)" }
        let users = [("mallory", "m4llory")] + victims.map { ($0, "unknown-\($0)") }
        func attack(_ demo: Demo) async throws -> (guesses: [UInt], checks: Double) {
            var guesses: [UInt] = []
            for (index, victim) in victims.enumerated() {
                guesses.append(try await demo.login(victim, "password\(index)", forwardedFor: "198.51.100.66").status.code)
                if index % 2 == 1 { try await demo.login("mallory", "m4llory", forwardedFor: "198.51.100.66") }
            }
            let counted = try await metrics(demo)
            return (guesses, (counted["defender_logins_total{outcome=\"failure\"}"] ?? 0))
        }
        try await withDemo(Self.proxy.merging(["DEFENDER_SUCCESS_RESET": "all"]) { $1 }, users: users, on: framework) { (demo) async throws in
            let (guesses, checks) = try await attack(demo)
            #expect(guesses == Array(repeating: 401, count: 8), "django-defender's reset lets every guess through")
            #expect(checks == 8)
        }
        try await withDemo(Self.proxy, users: users, on: framework) { (demo) async throws in
            let (guesses, checks) = try await attack(demo)
            #expect(guesses == [401, 401, 401, 403, 403, 403, 403, 403], "the default blocks the IP after 3 guesses")
            #expect(checks == 4)
            #expect(try await demo.login("mallory", "m4llory", forwardedFor: "198.51.100.66").status == .forbidden)
        }
    }

    // MARK: Cool-offs, headers, dry run

    @Test(arguments: DemoFramework.allCases) func cooloffCapAndJitterShowInRetryAfter(_ framework: DemoFramework) async throws {
        let env = ["DEFENDER_LOCKOUT_COOLOFF_TIME": "60,0", "DEFENDER_LOCKOUT_COOLOFF_MAX": "600", "DEFENDER_DISABLE_IP_LOCKOUT": "true"]
        try await withDemo(env, on: framework) { (demo) async throws in
            for _ in 0..<3 { try await demo.login("alice", "wrong") }
            #expect(try await demo.login("alice", "wrong").retryAfter == "60")
            try await demo.engine().unblock(username: "alice")
            for _ in 0..<3 { try await demo.login("alice", "wrong") }
            let second = try await demo.login("alice", "wrong")
            #expect(second.status == .forbidden && second.retryAfter == "600", "the permanent step is capped")
        }
        try await withDemo(Self.proxy.merging(["DEFENDER_LOCKOUT_JITTER": "120", "DEFENDER_DISABLE_IP_LOCKOUT": "true"]) { $1 }, on: framework) { (demo) async throws in
            var retries: Set<Int> = []
            for user in 0..<10 {
                for _ in 0..<3 { try await demo.login("jitter\(user)", "wrong") }
                retries.insert(Int(try await demo.login("jitter\(user)", "wrong").retryAfter ?? "") ?? -1)
            }
            #expect(retries.allSatisfy { (300...420).contains($0) } && retries.count >= 3, "\(retries.sorted())")
        }
    }

    @Test(arguments: DemoFramework.allCases) func rateLimitHeaders(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_RATELIMIT_HEADERS": "true"], on: framework) { (demo) async throws in
            let first = try await demo.login("alice", "wrong")
            #expect(first.status == .unauthorized)
            #expect(first.headers.first(name: "RateLimit-Policy") == "\"ip\";q=3;w=300, \"username\";q=3;w=300")
            #expect(first.headers.first(name: "RateLimit") == "\"ip\";r=2;t=300, \"username\";r=2;t=300")
            let api = try await demo.apiLogin("alice", "wrong")
            #expect(api.headers.first(name: "RateLimit") == "\"ip\";r=1;t=300, \"username\";r=1;t=300")
            try await demo.login("alice", "wrong")
            let locked = try await demo.login("alice", "wrong")
            #expect(locked.status == .forbidden && locked.headers.first(name: "RateLimit") == "\"ip\";r=0;t=300, \"username\";r=0;t=300")
            let ok = try await demo.login("bob", "x", forwardedFor: nil)
            #expect(ok.headers.first(name: "RateLimit-Policy") != nil)
        }
        try await withDemo(on: framework) { (demo) async throws in
            let response = try await demo.login("alice", "wrong")
            #expect(response.headers.first(name: "RateLimit") == nil && response.headers.first(name: "RateLimit-Policy") == nil)
        }
    }

    @Test(arguments: DemoFramework.allCases) func dryRunNeverRefuses(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_DRY_RUN": "true"], on: framework) { (demo) async throws in
            for _ in 0..<10 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            #expect(try await demo.login("alice", "secret1").status == .found)
            let counted = try await metrics(demo)
            #expect(counted["defender_dry_run_lockouts_total"] ?? 0 >= 1)
            #expect(counted["defender_logins_total{outcome=\"locked\"}"] ?? 0 == 0)
            let blocks = try await demo.engine().allBlocks(of: .ip)
            #expect(blocks.count == 1, "the would-be block is visible to operators")
        }
    }

    // MARK: Metrics

    /// A scripted scenario, then GET /metrics: every number matches what was done.
    @Test(arguments: DemoFramework.allCases) func metricsMatchTheScenario(_ framework: DemoFramework) async throws {
        let env = Self.proxy.merging(["DEFENDER_IP_DENYLIST": "203.0.113.0/24"]) { $1 }
        try await withDemo(env, users: [("alice", "secret1"), ("bob", "b0b")], on: framework) { (demo) async throws in
            try await demo.login("alice", "secret1", forwardedFor: "192.0.2.1")  // success
            try await demo.apiLogin("bob", "b0b", forwardedFor: "192.0.2.2")  // success
            for _ in 0..<3 { try await demo.login("alice", "wrong", forwardedFor: "192.0.2.3") }  // 3 failures
            #expect(try await demo.login("alice", "wrong", forwardedFor: "192.0.2.3").status == .forbidden)  // crosses: IP + username
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.4").status == .forbidden)  // refused: username blocked
            #expect(try await demo.login("alice", "secret1", forwardedFor: "203.0.113.5").status == .forbidden)  // denied
            let counted = try await metrics(demo)
            #expect(counted["defender_logins_total{outcome=\"success\"}"] == 2)
            #expect(counted["defender_logins_total{outcome=\"failure\"}"] == 4)
            #expect(counted["defender_logins_total{outcome=\"locked\"}"] == 1)
            #expect(counted["defender_logins_total{outcome=\"denied\"}"] == 1)
            #expect(counted["defender_lockouts_total{kind=\"ip\"}"] == 1)
            #expect(counted["defender_lockouts_total{kind=\"username\"}"] == 1)
            #expect(counted["defender_lockouts_total{kind=\"spray\"}"] == 0)
            #expect(counted["defender_store_duration_seconds_count{operation=\"admit\"}"] == 7)
            #expect(counted["defender_store_duration_seconds_count{operation=\"record_failure\"}"] == 4)
            #expect(counted["defender_store_duration_seconds_count{operation=\"record_success\"}"] == 2)
            #expect(counted["defender_store_errors_total"] == 0)
            // No client address or username ever appears in the metrics.
            let text = try await demo.send(.GET, "/metrics").text
            #expect(!text.contains("192.0.2") && !text.contains("alice"))
        }
    }
}
