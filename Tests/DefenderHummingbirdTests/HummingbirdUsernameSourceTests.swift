import DefenderHummingbird
import DefenderTesting
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import MetricsTestKit
import NIOCore
import Testing

/// The username source of each route under Hummingbird, as under Vapor (`UsernameSourceTests`): a route's own
/// source wins over the app's default, and a route that reads no username from a login that succeeds is reported
/// once in the log (with the route as registered) and every time in the metric.
@Suite struct HummingbirdUsernameSourceTests {
    struct Form: Decodable { var username: String?; var password: String?; var code: String? }

    @Test func eachRouteReadsItsOwnSourceAndAMismatchIsReported() async throws {
        let logs = LogCapture()
        let metrics = TestMetrics()
        var config = DefenderConfiguration()
        config.disableIPLockout = true
        config.usernameSource = .pathParameter("name")
        let defender = try HummingbirdDefender(configuration: config, metrics: DefenderMetrics(factory: metrics), logger: logs.logger)
        let router = Router(context: BasicDefenderRequestContext.self)
        @Sendable func answer(_ name: String?, _ form: Form) -> Response {
            ["alice", "carol"].contains(name) && form.password == "right" ? Response(status: .seeOther, headers: [.location: "/"]) : Response(status: .unauthorized)
        }
        @Sendable func form(_ request: Request, _ context: BasicDefenderRequestContext) async throws -> Form {
            try await request.decode(as: Form.self, context: context)
        }
        router.post("users/{name}/login") { request, context in
            try await defender.watchLogin(request, context: context) { request, context in
                answer(context.defender.username, try await form(request, context))
            }
        }
        router.post("form-login") { request, context in
            try await defender.watchLogin(request, context: context, usernameFrom: .formField) { request, context in
                answer(context.defender.username, try await form(request, context))
            }
        }
        router.post("login") { request, context in  // inherits the path source, but posts a form
            try await defender.watchLogin(request, context: context) { request, context in
                let form = try await form(request, context)
                return answer(form.username, form)
            }
        }
        router.post("code-login") { request, context in
            try await defender.watchLogin(request, context: context, usernameFrom: .ipOnly) { request, context in
                try await form(request, context).code == "123456" ? Response(status: .seeOther, headers: [.location: "/"]) : Response(status: .unauthorized)
            }
        }
        var app = Application(router: router)
        app.addServices(defender.services)
        try await app.test(.router) { (client) async throws in
            func post(_ path: String, _ body: String) async throws -> HTTPResponse.Status {
                try await client.execute(
                    uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body)
                ).status
            }
            for _ in 0..<3 { #expect(try await post("/form-login", "username=alice&password=wrong") == .unauthorized) }
            #expect(try await post("/form-login", "username=alice&password=wrong") == .forbidden)
            #expect(try await post("/users/alice/login", "password=right") == .forbidden)  // the same username, from the path
            #expect(metrics.counterTotal(label: "defender_logins_without_username_total") == 0)

            // The mismatched route: a failure is not reported (an attacker could send those at will); each success is
            // counted, and the first is logged once, naming the route as registered and its source.
            #expect(try await post("/login", "username=carol&password=wrong") == .unauthorized)
            #expect(metrics.counterTotal(label: "defender_logins_without_username_total") == 0)
            for _ in 0..<2 { #expect(try await post("/login", "username=carol&password=right") == .seeOther) }
            #expect(try await post("/code-login", "code=123456") == .seeOther)  // none read on purpose: not reported
            #expect(metrics.counterTotal(label: "defender_logins_without_username_total") == 2)
        }
        let warnings = logs.messages.filter { $0.contains("no username was read") }
        #expect(warnings.count == 1, "\(logs.messages)")
        #expect(warnings.first?.hasPrefix("[warning]") == true && warnings.first?.contains("route=/login") == true)
        #expect(warnings.first?.contains("username_source=path:name") == true, "\(warnings)")
    }
}
