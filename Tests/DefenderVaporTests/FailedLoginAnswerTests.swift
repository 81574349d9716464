import DefenderVapor
import Testing
import Vapor
import VaporTesting

/// One way to answer a wrong password, in the route's format: a JSON login gets problem+json for its failures as
/// for its lockout (not Vapor's `{"error":true}`), a form gets a page, and every one is counted.
@Suite struct FailedLoginAnswerTests {
    struct Credentials: Content {
        var username: String
        var password: String
    }

    @Test func failuresAnswerInTheRoutesFormatAndCount() async throws {
        try await withApp { (app) async throws in
            app.defender.configuration = DefenderConfiguration()
            app.logger.logLevel = .error
            app.post("api", "login") { req in
                try await req.defender.watchLogin(Credentials.self, username: \.username, outcome: .status(.unauthorized), format: .json) { form in
                    form.password == "right" ? Response(status: .ok) : req.defender.failedLogin(format: .json)
                }
            }
            app.post("login") { req in
                try await req.defender.watchLogin(Credentials.self, username: \.username) { form in
                    form.password == "right" ? req.redirect(to: "/") : req.defender.failedLogin()
                }
            }
            func json(_ password: String) async throws -> TestingHTTPResponse {
                try await app.testing().sendRequest(
                    .POST, "/api/login", headers: ["Content-Type": "application/json"],
                    body: ByteBuffer(string: #"{"username":"alice","password":"\#(password)"}"#))
            }
            for _ in 0..<3 {
                let failed = try await json("wrong")
                #expect(failed.status == .unauthorized && failed.headers.contentType?.subType == "problem+json")
                #expect(String(buffer: failed.body).contains(#""detail":"Invalid username or password.""#) && !String(buffer: failed.body).contains("\"error\""))
                #expect(failed.headers.first(name: .cacheControl) == "no-store")
            }
            let locked = try await json("wrong")
            #expect(locked.status == .forbidden && locked.headers.contentType?.subType == "problem+json")  // counted: the 4th locks

            let page = try await app.testing().sendRequest(
                .POST, "/login", headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "x"],
                body: ByteBuffer(string: "username=bob&password=wrong"))
            // The loopback address is locked by now: the form answers with the lockout page, in HTML.
            #expect(page.status == .forbidden && page.headers.contentType?.subType == "html")
        }
    }

    @Test func aFormFailureIsAPage() async throws {
        try await withApp { (app) async throws in
            app.defender.configuration = DefenderConfiguration()
            app.logger.logLevel = .error
            app.post("login") { req in
                try await req.defender.watchLogin(Credentials.self, username: \.username) { form in
                    form.password == "right" ? req.redirect(to: "/") : req.defender.failedLogin(detail: "Wrong username or password.")
                }
            }
            let failed = try await app.testing().sendRequest(
                .POST, "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: ByteBuffer(string: "username=bob&password=wrong"))
            #expect(failed.status == .unauthorized && failed.headers.contentType?.subType == "html")
            #expect(String(buffer: failed.body).contains("Wrong username or password."))
            let engine = try app.defender.engine()
            #expect(try await engine.store.state(of: engine.usernameKey("bob")).failures == 1)
        }
    }
}
