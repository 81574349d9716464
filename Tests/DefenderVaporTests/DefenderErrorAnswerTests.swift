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

            let form: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"]
            let requests: [(HTTPMethod, String, HTTPHeaders, String)] = [
                (.POST, "/form", form, "username=alice&password=x"),
                (.POST, "/decoded", form, "username=alice&password=x"),
                (.POST, "/reset", form, "username=alice"),
                (.GET, "/basic", ["Authorization": "Basic YWxpY2U6eA==", "Accept": "application/json"], ""),
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
            // A browser's form gets the same status and message as a page.
            let page = try await app.testing().sendRequest(
                .POST, "/form", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: ByteBuffer(string: "username=alice&password=x"))
            #expect(page.status == .serviceUnavailable && page.headers.first(name: .retryAfter) == "1")
            #expect(page.headers.contentType?.subType == "html" && String(buffer: page.body).contains("try again in a moment"), "\(String(buffer: page.body))")
            // Nothing was counted: a request that was not admitted was not checked.
            #expect(try await engine.store.state(of: engine.usernameKey("alice")).failures == 0)
        }
        // One line per answer, at `debug`: an app logging at `info` gets none.
        let answered = logs.messages.filter { $0.contains("defender answered 503") }
        #expect(answered.count == 6 && answered.allSatisfy { $0.hasPrefix("[debug]") }, "\(logs.messages)")
    }

    /// What the app's own code throws inside a protected login — a `DefenderError` included — is the app's: it
    /// goes on to the app's error middleware as thrown, not answered (nor logged) as one of Defender's own.
    @Test func theAppsOwnErrorsReachTheAppsErrorMiddleware() async throws {
        try await withApp { (app) async throws in
            app.defender.configuration = DefenderConfiguration()
            app.logger.logLevel = .critical
            app.post("form") { req -> Response in
                try await req.defender.watchLogin { _ -> Response in throw DefenderError(.invalidKey, "the app's own mistake") }
            }
            app.grouped(DefenderBasicAuthenticator { _, _, _ in true }).get("basic") { _ -> Response in
                throw DefenderError(.storeFault, "the app's own store call")
            }
            let form = try await app.testing().sendRequest(
                .POST, "/form", headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
                body: ByteBuffer(string: "username=alice&password=x"))
            // Vapor's ErrorMiddleware shape: the app's error handling saw it.
            #expect(form.status == .badRequest && String(buffer: form.body).contains(#""error":true"#), "\(String(buffer: form.body))")
            let basic = try await app.testing().sendRequest(.GET, "/basic", headers: ["Authorization": "Basic YWxpY2U6eA=="])
            #expect(basic.status == .serviceUnavailable && String(buffer: basic.body).contains(#""error":true"#), "\(String(buffer: basic.body))")
        }
    }
}
