import DefenderHummingbird
import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import HTTPTypes
import NIOCore
import Testing

/// The admin mounted in Hummingbird under a non-default path, with sessions for the CSRF token and Basic credentials
/// for the API: every link and form follows the path, forms need the session's token, JSON POSTs the header.
@Suite struct HummingbirdAdminTests {
    struct Session: DefenderAdminSession {
        var user: String
        var defenderCSRFToken: String?
    }

    struct Context: DefenderRequestContext, SessionRequestContext {
        var coreContext: CoreRequestContextStorage
        var defender = DefenderRequestValues()
        let sessions = SessionContext<Session>()
        let remoteAddress: SocketAddress?

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            remoteAddress = source.channel.remoteAddress
        }
    }

    static let basicRoot: HTTPFields = [.authorization: "Basic " + Data("root:rootpw".utf8).base64EncodedString()]

    @Test func everyLinkFormAndAPIWorksUnderAnotherPath() async throws {
        let defender = try HummingbirdDefender(configuration: .fromEnvironment([:]))
        try await defender.engine.block(username: "victim1")
        try await defender.engine.block(username: "victim2")
        let persist = MemoryPersistDriver()
        let router = Router(context: Context.self)
        router.add(middleware: SessionMiddleware(storage: persist))
        // Sign-in for the test: a session for root.
        router.post("signin") { _, context in
            context.sessions.createSession(Session(user: "root"))
            return Response(status: .noContent)
        }
        DefenderAdminRoutes(defender, blockPageSize: 1) { request, context in
            if context.sessions.session?.user == "root" { return .sessionAdmin("root") }
            if request.headers[.authorization] == Self.basicRoot[.authorization] { return .credentialAdmin("root") }
            return request.headers[.authorization] == nil ? .anonymous : .forbidden
        }.register(on: router.group("ops"), at: "guard")
        let app = Application(router: router, services: [persist])
        try await app.test(.live) { client in
            let anonymous = try await client.execute(uri: "/ops/guard", method: .get)
            #expect(anonymous.status == .found && anonymous.headers[.location] == "/login?next=/ops/guard")
            #expect(try await client.execute(uri: "/ops/guard/api/blocks", method: .get).status == .unauthorized)
            let forbidden = try await client.execute(uri: "/ops/guard/api/blocks", method: .get, headers: [.authorization: "Basic eDp5"])
            #expect(forbidden.status == .forbidden)

            let signin = try await client.execute(uri: "/signin", method: .post)
            let cookie = try #require(signin.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let page = try await client.execute(uri: "/ops/guard", method: .get, headers: [.cookie: cookie])
            let html = String(buffer: page.body)
            #expect(page.status == .ok && page.headers[.cacheControl] == "no-store")
            #expect(!html.contains("/admin/defender"), "a link still points at the default path")
            for action in ["/ops/guard/unblock", "/ops/guard/block", "action=\"/ops/guard\"", "href=\"/ops/guard?"] {
                #expect(html.contains(action), "\(action) missing")
            }
            let token = html.range(of: "<meta name=\"csrf-token\" content=\"").map { String(html[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
            #expect(token.count == 64)

            let formHeaders: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
            let blocked = try await client.execute(
                uri: "/ops/guard/block", method: .post, headers: formHeaders, body: ByteBuffer(string: "kind=username&value=mallory&seconds=60&csrf=\(token)"))
            #expect(blocked.status == .seeOther && blocked.headers[.location]?.hasPrefix("/ops/guard?notice=") == true)
            #expect(try await defender.engine.store.state(of: defender.engine.usernameKey("mallory")).block != nil)
            let refused = try await client.execute(
                uri: "/ops/guard/unblock", method: .post, headers: formHeaders, body: ByteBuffer(string: "kind=username&value=mallory&csrf=wrong"))
            #expect(refused.status == .forbidden && String(buffer: refused.body).contains("href=\"/ops/guard\""))
            #expect(try await defender.engine.store.state(of: defender.engine.usernameKey("mallory")).block != nil)

            // JSON API: with the session it needs the header; with Basic it does not.
            let json: HTTPFields = [.cookie: cookie, .contentType: "application/json"]
            let noHeader = try await client.execute(uri: "/ops/guard/api/unblock", method: .post, headers: json, body: ByteBuffer(string: #"{"username":"mallory"}"#))
            #expect(noHeader.status == .forbidden)
            var withHeader = json
            withHeader[HTTPField.Name("X-CSRF-Token")!] = token
            let unblocked = try await client.execute(uri: "/ops/guard/api/unblock", method: .post, headers: withHeader, body: ByteBuffer(string: #"{"username":"mallory"}"#))
            #expect(unblocked.status == .noContent)
            var basicJSON = Self.basicRoot
            basicJSON[.contentType] = "application/json"
            let viaBasic = try await client.execute(uri: "/ops/guard/api/block", method: .post, headers: basicJSON, body: ByteBuffer(string: #"{"ip":"2001:db8::1","seconds":30}"#))
            #expect(viaBasic.status == .noContent)
            let blocks = try await client.execute(uri: "/ops/guard/api/blocks", method: .get, headers: Self.basicRoot)
            let report = try JSONDecoder().decode(BlocksReport.self, from: Data(String(buffer: blocks.body).utf8))
            #expect(report.usernames.map(\.username) == ["victim1", "victim2"] && report.ips.map(\.ip) == ["2001:db8::/64"])
            let badType = try await client.execute(uri: "/ops/guard/api/block", method: .post, headers: Self.basicRoot, body: ByteBuffer(string: "ip=1.2.3.4"))
            #expect(badType.status == .unsupportedMediaType)
            // No audit log and no stored deny list in this app: those API routes say so.
            #expect(try await client.execute(uri: "/ops/guard/api/attempts", method: .get, headers: Self.basicRoot).status == .notFound)
            // A Basic administrator has no session to keep a CSRF token in here: the forms carry one derived from the
            // administrator's name and the day under a key no other site knows, and work with it; without it, or with
            // a wrong one, they are refused, and nothing changes.
            let basicPage = try await client.execute(uri: "/ops/guard", method: .get, headers: Self.basicRoot)
            let basicText = String(buffer: basicPage.body)
            #expect(basicPage.status == .ok && !basicText.contains("use the JSON API"))
            let basicToken = try #require(basicText.range(of: "<meta name=\"csrf-token\" content=\"").map { basicText[$0.upperBound...].prefix { $0 != "\"" } })
            #expect(basicToken.count == 32)
            var basicForm = Self.basicRoot
            basicForm[.contentType] = "application/x-www-form-urlencoded"
            for refused in ["", String(repeating: "0", count: 32), "\(basicToken.dropLast())x"] {
                let answer = try await client.execute(uri: "/ops/guard/block", method: .post, headers: basicForm, body: ByteBuffer(string: "kind=username&value=viabasic&csrf=\(refused)"))
                #expect(answer.status == .forbidden, "token '\(refused)'")
            }
            #expect(try await defender.engine.store.state(of: defender.engine.usernameKey("viabasic")).block == nil)
            let done = try await client.execute(uri: "/ops/guard/block", method: .post, headers: basicForm, body: ByteBuffer(string: "kind=username&value=viabasic&csrf=\(basicToken)"))
            #expect(done.status == .seeOther)
            #expect(try await defender.engine.store.state(of: defender.engine.usernameKey("viabasic")).block != nil)
            // The notice of that form shows to the same Basic administrator.
            let noticed = try await client.execute(uri: try #require(done.headers[.location]), method: .get, headers: Self.basicRoot)
            #expect(String(buffer: noticed.body).contains("Blocked username viabasic."))
        }
    }
}
