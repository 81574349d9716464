import DefenderTesting
import DefenderVapor
import Testing
import Vapor
import VaporTesting

/// Defender's own errors are answered by Defender, the same way in every integration and every protected entry
/// point: status, `Retry-After` and a problem+json body — not Vapor's `{"error":true,…}` from its error middleware,
/// which a Hummingbird app never gives. Logged at `debug`: an attack or an outage makes no line per request.
@Suite struct DefenderErrorAnswerTests {
    struct Credentials: Content {
        var username: String
        var password: String
    }

    @Test func anAdmissionTimeoutIsTheSameProblemFromEveryEntryPoint() async throws {
        let logs = LogCapture()
        try await withApp { (app) async throws in
            var config = DefenderConfiguration()
            config.admissionTimeout = .milliseconds(20)
            app.defender.configuration = config
            app.logger = logs.logger
            app.logger.logLevel = .debug
            app.post("form") { req in try await req.defender.watchLogin { _ in Response(status: .ok) } }
            app.post("decoded") { req in
                try await req.defender.watchLogin(Credentials.self, username: \.username) { _ in Response(status: .ok) }
            }
            app.post("reset") { req in try await req.defender.watchPasswordReset { _ in Response(status: .ok) } }
            app.grouped(DefenderBasicAuthenticator { _, _, _ in true }).get("basic") { _ in Response(status: .ok) }
            app.grouped(DefenderLoginMiddleware(paths: ["/middleware"])).post("middleware") { _ in Response(status: .ok) }

            // Four checks in flight on the client's address (its limit is 3), held elsewhere in the app: no request
            // from it can be admitted until they end.
            let engine = try app.defender.engine()
            let ip = ClientAddress(address: IPAddress("127.0.0.1")!)
            for index in 0..<4 { _ = try await engine.check(ip: ip, username: "held\(index)") }

            let form: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded"]
            let requests: [(HTTPMethod, String, HTTPHeaders, String)] = [
                (.POST, "/form", form, "username=alice&password=x"),
                (.POST, "/decoded", form, "username=alice&password=x"),
                (.POST, "/reset", form, "username=alice"),
                (.GET, "/basic", ["Authorization": "Basic YWxpY2U6eA=="], ""),
                (.POST, "/middleware", form, "username=alice&password=x"),
            ]
            var bodies: Set<String> = []
            for (method, path, headers, body) in requests {
                let response = try await app.testing().sendRequest(method, path, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == .serviceUnavailable, "\(path)")
                #expect(response.headers.first(name: .retryAfter) == "1", "\(path)")
                #expect(response.headers.contentType?.subType == "problem+json", "\(path): \(response.headers)")
                bodies.insert(String(buffer: response.body))
            }
            #expect(bodies.count == 1, "\(bodies)")
            let body = try #require(bodies.first)
            #expect(body.contains(#""status":503"#) && !body.contains(#""error":true"#), "\(body)")
            // Nothing was counted: a request that was not admitted was not checked.
            #expect(try await engine.store.state(of: engine.usernameKey("alice")).failures == 0)
        }
        // One line per answer, at `debug`: an app logging at `info` gets none.
        let answered = logs.messages.filter { $0.contains("defender answered 503") }
        #expect(answered.count == 5 && answered.allSatisfy { $0.hasPrefix("[debug]") }, "\(logs.messages)")
    }
}
