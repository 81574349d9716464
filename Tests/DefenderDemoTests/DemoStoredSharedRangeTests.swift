import DefenderCore
import DefenderHTTP
import DefenderTesting
import Foundation
import Testing
import Vapor

/// Shared ranges an operator stores (`defender_shared_ranges`): managed from the admin API and page and from
/// `defender share`/`unshare`, applied at once where they are changed and within the reload interval elsewhere.
@Suite(.serialized) struct DemoStoredSharedRangeTests {
    static let admin: HTTPHeaders = ["Authorization": "Basic " + Data("root:rootpw".utf8).base64EncodedString()]

    func json(_ demo: Demo, _ path: String, _ body: String, headers: HTTPHeaders = Self.admin) async throws -> DemoResponse {
        try await demo.post(path, body: body, contentType: "application/json", forwardedFor: "192.0.2.200", headers: headers)
    }

    /// Whether an address counts pairs: four usernames fail once each there, and the fourth is no lockout.
    static func isShared(_ demo: Demo, _ address: String) async throws -> Bool {
        var last = HTTPResponseStatus.ok
        for index in 0..<4 { last = try await demo.login("probe-\(address)-\(index)", "wrong", forwardedFor: address).status }
        return last == .unauthorized
    }

    @Test(arguments: DemoFramework.allCases) func theAdminAPIAndPageManageStoredSharedRanges(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            try await demo.createUser("root", "rootpw", admin: true)
            #expect(try await !Self.isShared(demo, "198.51.100.1"))
            #expect(try await json(demo, "/admin/defender/api/shared-ranges", #"{"network": "198.51.100.0/24", "note": "<i>office</i>"}"#).status == .noContent)
            #expect(try await Self.isShared(demo, "198.51.100.2"))
            let listed = try await demo.send(.GET, "/admin/defender/api/shared-ranges", forwardedFor: "192.0.2.200", headers: Self.admin)
            #expect(listed.text.contains(#""network":"198.51.100.0\/24""#) || listed.text.contains(#""network":"198.51.100.0/24""#), "\(listed.text)")
            #expect(try await json(demo, "/admin/defender/api/shared-ranges", #"{"network": "not-a-range"}"#).status == .badRequest)
            #expect(try await json(demo, "/admin/defender/api/shared-ranges", #"{"network": "10.0.0.0/8"}"#, headers: [:]).status == .unauthorized)

            // The page lists it, escaped, with a remove form under the admin's base; the form needs the CSRF token.
            let signIn = try await demo.login("root", "rootpw", forwardedFor: "192.0.2.200")
            let session: HTTPHeaders = ["Cookie": "defender-demo-session=\(signIn.headers.setCookie?["defender-demo-session"]?.string ?? "")"]
            let page = try await demo.send(.GET, "/admin/defender", forwardedFor: "192.0.2.200", headers: session)
            #expect(page.text.contains("<h2>Shared ranges</h2>") && page.text.contains("&lt;i&gt;office&lt;/i&gt;") && !page.text.contains("<i>office</i>"))
            #expect(page.text.contains("action=\"/admin/defender/shared-ranges/remove\""))
            let token = page.text.range(of: "<meta name=\"csrf-token\" content=\"").map { String(page.text[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
            func form(_ path: String, _ body: String) async throws -> DemoResponse {
                try await demo.post(path, body: body, contentType: "application/x-www-form-urlencoded", forwardedFor: "192.0.2.200", headers: session)
            }
            #expect(try await form("/admin/defender/shared-ranges/add", "value=203.0.113.0%2F24").status == .forbidden)  // no token
            let added = try await form("/admin/defender/shared-ranges/add", "csrf=\(token)&value=203.0.113.0%2F24&note=campus")
            #expect(added.status == .seeOther && (added.headers.first(name: .location) ?? "").contains("shared"))
            #expect(try await Self.isShared(demo, "203.0.113.9"))
            #expect(try await form("/admin/defender/shared-ranges/remove", "csrf=\(token)&value=203.0.113.0%2F24").status == .seeOther)

            #expect(try await json(demo, "/admin/defender/api/shared-ranges/remove", #"{"network": "198.51.100.0/24"}"#).status == .noContent)
            #expect(try await json(demo, "/admin/defender/api/shared-ranges/remove", #"{"network": "198.51.100.0/24"}"#).status == .notFound)
            #expect(try await !Self.isShared(demo, "198.51.100.3"))
            #expect(try await !Self.isShared(demo, "203.0.113.10"))
        }
    }

    /// `defender share` writes the table from a separate process; a running server picks it up within the reload
    /// interval, and `defender unshare` likewise.
    @Test(arguments: DemoFramework.allCases) func commandsReachARunningServer(_ framework: DemoFramework) async throws {
        try await withDemoFiles(framework, ["DEFENDER_BEHIND_REVERSE_PROXY": "true", "DEFENDER_IP_DENYLIST_RELOAD_INTERVAL": "1"]) {
            (executable, env, _) async throws in
            func run(_ arguments: String...) async throws -> (Int32, String) { try await DemoProcess.run(executable, ["defender"] + arguments, environment: env) }
            let server = try await DemoProcess(executable, environment: env)
            defer { server.stop() }
            // The fourth distinct username failing from `address`: 401 when it is shared, 403 when the address locks.
            var round = 0
            func fourthFailure(_ address: String) async throws -> Int {
                round += 1
                var statuses: [Int] = []
                for index in 0..<4 {
                    statuses += try await HTTPStorm.run([.login(server.base, "u\(round)-\(index)", "wrong", from: address)])
                }
                return statuses.last ?? 0
            }
            #expect(try await fourthFailure("192.0.2.50") == 403)

            var (status, output) = try await run("share", "192.0.2.0/24", "--note", "the office proxy")
            #expect(status == 0 && output.contains("192.0.2.0/24 is shared."), "\(output)")
            (status, output) = try await run("shared-ranges", "--json")
            #expect(status == 0 && output.contains("\"note\":\"the office proxy\""), "\(output)")
            (status, output) = try await run("share", "nonsense")
            #expect(status != 0 && output.contains("is not an IP address or CIDR range"), "\(output)")
            var shared = false
            for index in 0..<50 where !shared {
                try await Task.sleep(for: .milliseconds(200))
                shared = try await fourthFailure("192.0.2.\(60 + index)") == 401
            }
            #expect(shared, "the running server did not pick up `defender share` within 10 s")

            (status, output) = try await run("unshare", "192.0.2.0/24")
            #expect(status == 0 && output.contains("Removed"), "\(output)")
            var unshared = false
            for index in 0..<50 where !unshared {
                try await Task.sleep(for: .milliseconds(200))
                unshared = try await fourthFailure("192.0.2.\(120 + index)") == 403
            }
            #expect(unshared, "the running server did not pick up `defender unshare` within 10 s")
            #expect(server.stop() == 0)
        }
    }

    /// The operator's actions behind the commands, in process (the commands' own processes are not measured by
    /// coverage): every answer of `share`, `shared-ranges` and `unshare`; pair keys from the admin's form values; and
    /// what an app without a stored list is told.
    @Test(arguments: DemoFramework.allCases) func theOperatorActionsBehindTheCommands(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            let operations = try demo.operations()
            let commands = OperatorCommands(operations)
            #expect(try await commands.add("192.0.2.0/24", note: "office", to: .sharedRanges) == "192.0.2.0/24 is shared.")
            #expect(try await commands.add(" 192.0.2.9/24 ", note: nil, to: .sharedRanges) == "192.0.2.0/24 was already shared.")
            #expect(try await commands.show(.sharedRanges, json: false) == "Stored shared ranges: 1\n  192.0.2.0/24  (office)")
            #expect(try await commands.show(.sharedRanges, json: true).contains("\"note\":\"office\""))
            #expect(try await Self.isShared(demo, "192.0.2.77"))
            #expect(try await commands.remove("192.0.2.0/24", from: .sharedRanges) == "Removed 192.0.2.0/24 from the shared ranges.")
            #expect(try await commands.remove("192.0.2.0/24", from: .sharedRanges) == "192.0.2.0/24 was not a stored shared range.")
            await #expect(throws: DefenderCommandError.self) { try await commands.add("nonsense", note: nil, to: .sharedRanges) }

            // The admin's forms name a pair as ADDRESS|USERNAME; the API takes both names, for unblocking only.
            let pair = try operations.key(kind: "pair", value: "100.64.0.1| Alice ")
            #expect(pair == .pair(address: DefenderKey(kind: .ip, normalizedValue: "100.64.0.1"), username: DefenderKey.username("alice")!))
            #expect(throws: DefenderError.self) { try operations.key(kind: "pair", value: "no bar") }
            #expect(try operations.key(kind: "other", value: "x") == nil)
            #expect(try operations.key(ip: "100.64.0.1", username: "alice") == nil)
            #expect(try operations.key(ip: "100.64.0.1", username: "alice", pairs: true) == pair)
        }
        // An app that keeps no stored shared ranges says how to keep them.
        let bare = OperatorCommands(try DefenderRuntime(configuration: DefenderConfiguration()).operations())
        let error = await #expect(throws: DefenderCommandError.self) { try await bare.show(.sharedRanges, json: false) }
        #expect(error?.description.contains("useStoredSharedRanges") == true)
    }
}
