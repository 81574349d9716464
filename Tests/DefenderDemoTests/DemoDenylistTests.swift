import DefenderDemoApp
import DefenderFluent
import DefenderTesting
import DefenderVapor
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

/// The stored deny list: managed from the admin API and page and from `defender deny`, applied at once, and
/// kept across restarts (in the database, whatever the attempt store).
@Suite(.serialized) struct DemoDenylistTests {
    static let admin: HTTPHeaders = ["Authorization": "Basic " + Data("root:rootpw".utf8).base64EncodedString()]

    func withAdminDemo(_ framework: DemoFramework, _ test: (Demo) async throws -> Void) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            try await demo.createUser("root", "rootpw", admin: true)
            try await test(demo)
        }
    }

    func json(_ demo: Demo, _ path: String, _ body: String, headers: HTTPHeaders = Self.admin) async throws -> DemoResponse {
        try await demo.post(path, body: body, contentType: "application/json", forwardedFor: "192.0.2.200", headers: headers)
    }

    @Test(arguments: DemoFramework.allCases) func adminAPIManagesTheListAndItAppliesAtOnce(_ framework: DemoFramework) async throws {
        try await withAdminDemo(framework) { (demo) async throws in
            #expect(try await demo.login("alice", "secret1", forwardedFor: "203.0.113.5").status == .found)
            #expect(try await json(demo, "/admin/defender/api/denylist", #"{"network": "203.0.113.0/24", "note": "<b>proxies</b>"}"#).status == .noContent)
            #expect(try await json(demo, "/admin/defender/api/denylist", #"{"network": "2001:db8:bad::1/48"}"#).status == .noContent)
            let listed = try await demo.send(.GET, "/admin/defender/api/denylist", forwardedFor: "192.0.2.200", headers: Self.admin)
            #expect(listed.status == .ok && listed.text.contains("\"network\":\"203.0.113.0/24\"") && listed.text.contains("2001:db8:bad::/48"), "\(listed.text)")

            let refused = try await demo.login("alice", "secret1", forwardedFor: "203.0.113.5")
            #expect(refused.status == .forbidden && refused.text.contains("not allowed"))
            #expect(try await demo.login("alice", "secret1", forwardedFor: "2001:db8:bad:7::1").status == .forbidden)

            // Bad input, unknown entries, non-admins.
            #expect(try await json(demo, "/admin/defender/api/denylist", #"{"network": "nonsense"}"#).status == .badRequest)
            #expect(try await json(demo, "/admin/defender/api/denylist", #"{"nope": 1}"#).status == .badRequest)
            #expect(try await json(demo, "/admin/defender/api/denylist/remove", #"{"network": "198.51.100.0/24"}"#).status == .notFound)
            #expect(try await json(demo, "/admin/defender/api/denylist", #"{"network": "10.0.0.0/8"}"#, headers: [:]).status == .unauthorized)
            let plain: HTTPHeaders = ["Authorization": "Basic " + Data("alice:secret1".utf8).base64EncodedString()]
            #expect(try await json(demo, "/admin/defender/api/denylist", #"{"network": "10.0.0.0/8"}"#, headers: plain).status == .forbidden)
            #expect(try await demo.send(.GET, "/admin/defender/api/denylist", forwardedFor: "192.0.2.201").status == .unauthorized)

            // The page lists it, escaped, with a CSRF-protected remove form.
            let page = try await demo.send(.GET, "/admin/defender", forwardedFor: "192.0.2.200", headers: Self.admin)
            #expect(page.text.contains("&lt;b&gt;proxies&lt;/b&gt;") && !page.text.contains("<b>proxies</b>"))
            #expect(page.text.contains("action=\"/admin/defender/denylist/remove\""))

            #expect(try await json(demo, "/admin/defender/api/denylist/remove", #"{"network": "203.0.113.0/24"}"#).status == .noContent)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "203.0.113.5").status == .found)
        }
    }

    /// The same range added by 20 requests at once: every request succeeds, one row is stored.
    @Test(arguments: DemoFramework.allCases) func concurrentAddsStoreOneRow(_ framework: DemoFramework) async throws {
        try await withAdminDemo(framework) { (demo) async throws in
            let operations = try demo.operations()
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    group.addTask { try await operations.add(index % 2 == 0 ? "192.0.2.0/24" : "192.0.2.77/24", note: "race", to: .denylist).added }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.count(where: { $0 }) == 1)
            #expect(try await operations.require(.denylist).entries().map(\.network.description) == ["192.0.2.0/24"])
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.1").status == .forbidden)
        }
    }

    @Test(arguments: DemoFramework.allCases) func pageFormsNeedTheCSRFToken(_ framework: DemoFramework) async throws {
        try await withAdminDemo(framework) { (demo) async throws in
            let signIn = try await demo.login("root", "rootpw", forwardedFor: "192.0.2.200")
            let session: HTTPHeaders = ["Cookie": "defender-demo-session=\(signIn.headers.setCookie?["defender-demo-session"]?.string ?? "")"]
            let page = try await demo.send(.GET, "/admin/defender", forwardedFor: "192.0.2.200", headers: session)
            let token = page.text.range(of: "<meta name=\"csrf-token\" content=\"").map { String(page.text[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
            #expect(!token.isEmpty)
            func form(_ path: String, _ body: String) async throws -> DemoResponse {
                try await demo.post(path, body: body, contentType: "application/x-www-form-urlencoded", forwardedFor: "192.0.2.200", headers: session)
            }
            #expect(try await form("/admin/defender/denylist/add", "value=198.51.100.0%2F24").status == .forbidden)  // no token
            #expect(try await form("/admin/defender/denylist/add", "csrf=wrong&value=198.51.100.0%2F24").status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "198.51.100.9").status == .found)
            let added = try await form("/admin/defender/denylist/add", "csrf=\(token)&value=198.51.100.0%2F24&note=scanner")
            #expect(added.status == .seeOther && (added.headers.first(name: .location) ?? "").contains("Deny-listed"))
            #expect(try await demo.login("alice", "secret1", forwardedFor: "198.51.100.9").status == .forbidden)
            let removed = try await form("/admin/defender/denylist/remove", "csrf=\(token)&value=198.51.100.0%2F24")
            #expect(removed.status == .seeOther)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "198.51.100.9").status == .found)
        }
    }

    /// `defender deny` writes the table from a separate process; a server started afterwards (a restart) with
    /// the memory store refuses the range, and picks up `defender undeny` while it runs.
    @Test(arguments: DemoFramework.allCases) func commandsAndRestarts(_ framework: DemoFramework) async throws {
        try await withDemoFiles(framework, ["DEFENDER_BEHIND_REVERSE_PROXY": "true", "DEFENDER_IP_DENYLIST_RELOAD_INTERVAL": "1"]) {
            (executable, env, _) async throws in
            func run(_ arguments: String...) async throws -> (Int32, String) { try await DemoProcess.run(executable, ["defender"] + arguments, environment: env) }

            var (status, output) = try await run("deny", "203.0.113.0/24", "--note", "tor exits")
            #expect(status == 0 && output.contains("Deny-listed 203.0.113.0/24."), "\(output)")
            (status, output) = try await run("deny", "2001:db8:bad::/48")
            #expect(status == 0)
            (status, output) = try await run("deny", "not-a-range")
            #expect(status != 0 && output.contains("is not an IP address or CIDR range"), "\(output)")
            (status, output) = try await run("denylist", "--json")
            #expect(status == 0 && output.contains("\"network\":\"203.0.113.0/24\"") && output.contains("\"note\":\"tor exits\""), "\(output)")

            let server = try await DemoProcess(executable, environment: env)
            defer { server.stop() }
            func login(_ ip: String) async throws -> Int {
                try await HTTPStorm.run([.login(server.base, "alice", "secret1", from: ip)])[0]
            }
            #expect(try await login("203.0.113.5") == 403)
            #expect(try await login("2001:db8:bad:1::1") == 403)
            #expect(try await login("192.0.2.5") == 302)

            (status, output) = try await run("undeny", "203.0.113.0/24")
            #expect(status == 0 && output.contains("Removed"), "\(output)")
            var lifted = false
            for _ in 0..<50 where !lifted {
                try await Task.sleep(for: .milliseconds(200))
                lifted = try await login("203.0.113.5") == 302
            }
            #expect(lifted, "the running server did not pick up `defender undeny` within 10 s")
            #expect(server.stop() == 0)
        }
    }
}
