@testable import DefenderDemoApp
import DefenderFluent
import DefenderTesting
import DefenderVapor
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// The admin mounted under another path: every link, form and redirect of the page follows it.
@Suite struct DemoAdminBasePathTests {
    @Test func everyLinkAndFormWorksUnderAnotherPath() async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { (demo) async throws in
            try await demo.createUser("root", "rootpw", admin: true)
            DefenderAdmin(blockPageSize: 1, authorize: DemoApp.adminAccess)
                .register(on: demo.app.grouped(User.sessionAuthenticator()).grouped("ops"), at: "guard")
            let engine = try demo.engine()
            try await engine.block(username: "victim1")
            try await engine.block(username: "victim2")
            // Anonymous: sent to the login with the way back.
            let anonymous = try await demo.send(.GET, "/ops/guard")
            #expect(anonymous.status == .found && anonymous.headers.first(name: .location) == "/login?next=/ops/guard")
            let login = try await demo.login("root", "rootpw", forwardedFor: "192.0.2.200")
            let cookie: HTTPHeaders = ["Cookie": "defender-demo-session=\(login.headers.setCookie?["defender-demo-session"]?.string ?? "")"]
            let page = try await demo.send(.GET, "/ops/guard", headers: cookie)
            #expect(page.status == .ok)
            #expect(!page.text.contains("/admin/defender"), "a link still points at the default path")
            for action in ["/ops/guard/unblock", "/ops/guard/block", "/ops/guard/denylist/add", "action=\"/ops/guard\""] {
                #expect(page.text.contains(action), "\(action) missing")
            }
            #expect(page.text.contains("href=\"/ops/guard?"), "the paging link does not follow the path")
            let token = page.text.range(of: "<meta name=\"csrf-token\" content=\"").map { String(page.text[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
            func form(_ path: String, _ body: String) async throws -> DemoResponse {
                try await demo.post(path, body: body + "&csrf=\(token)", contentType: "application/x-www-form-urlencoded", headers: cookie)
            }
            let blocked = try await form("/ops/guard/block", "kind=username&value=mallory&seconds=60")
            #expect(blocked.status == .seeOther && blocked.headers.first(name: .location)?.hasPrefix("/ops/guard?notice=") == true)
            #expect(try await engine.store.state(of: engine.usernameKey("mallory")).block != nil)
            let unblocked = try await form("/ops/guard/unblock", "kind=username&value=mallory")
            #expect(unblocked.headers.first(name: .location)?.hasPrefix("/ops/guard?notice=") == true)
            #expect(try await engine.store.state(of: engine.usernameKey("mallory")).block == nil)
            let denied = try await form("/ops/guard/denylist/add", "value=203.0.113.0/24&note=test")
            #expect(denied.headers.first(name: .location)?.hasPrefix("/ops/guard?notice=") == true)
            let refused = try await demo.post("/ops/guard/block", body: "kind=username&value=x", contentType: "application/x-www-form-urlencoded", headers: cookie)
            #expect(refused.status == .forbidden && refused.text.contains("href=\"/ops/guard\""))
            let blocks = try await demo.send(.GET, "/ops/guard/api/blocks", headers: ["Authorization": "Basic " + Data("root:rootpw".utf8).base64EncodedString()])
            #expect(blocks.status == .ok && blocks.text.contains("victim1"))
        }
    }

    /// Mounted under a group with empty parts (an empty prefix from the environment): no action, link or redirect
    /// starts with `//`, which a browser reads as another host.
    @Test func emptyPathPartsMakeNoOffSiteLinks() async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { (demo) async throws in
            try await demo.createUser("root", "rootpw", admin: true)
            DefenderAdmin(authorize: DemoApp.adminAccess)
                .register(on: demo.app.grouped(User.sessionAuthenticator()).grouped("").grouped("ops", ""), at: "guard")
            let login = try await demo.login("root", "rootpw", forwardedFor: "192.0.2.200")
            let cookie: HTTPHeaders = ["Cookie": "defender-demo-session=\(login.headers.setCookie?["defender-demo-session"]?.string ?? "")"]
            let page = try await demo.send(.GET, "/ops/guard", headers: cookie)
            #expect(page.status == .ok)
            #expect(page.text.contains("action=\"/ops/guard/block\""))
            #expect(!page.text.contains("=\"//"), "a link or action starts with //")
            let token = page.text.range(of: "<meta name=\"csrf-token\" content=\"").map { String(page.text[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
            let blocked = try await demo.post(
                "/ops/guard/block", body: "kind=username&value=mallory&seconds=60&csrf=\(token)", contentType: "application/x-www-form-urlencoded", headers: cookie)
            #expect(blocked.status == .seeOther && blocked.headers.first(name: .location)?.hasPrefix("/ops/guard?notice=") == true)
        }
    }
}
