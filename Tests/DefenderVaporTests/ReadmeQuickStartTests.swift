// The README's quick start, compiled and run here so that it cannot rot.
import DefenderVapor
import NIOCore
import Testing
import Vapor
import VaporTesting

// MARK: README quick start (keep in sync with README.md)

struct LoginForm: Content {
    var username: String
    var password: String
}

func configure(_ app: Application) async throws {
    // Every DEFENDER_* variable, with django-defender's defaults; a bad value throws and names it.
    app.defender.configuration = try .fromEnvironment()
    // DEFENDER_STORE=memory (the default); for redis add DefenderRedis and use `.automatic(RedisStoreFactory())`.
    app.defender.use(.automatic)

    app.post("login") { req async throws -> Response in
        // Defender decodes the form once, counts `form.username`, and hands the handler what it read.
        try await req.defender.watchLogin(LoginForm.self, username: \.username) { form in
            // Locked-out requests never get here: the password is not checked.
            guard try await checkPassword(username: form.username, password: form.password, on: req) else {
                return Response(status: .unauthorized)  // any non-redirect counts as a failure
            }
            return req.redirect(to: "/")  // a redirect counts as a success and clears the counters
        }
    }
}

// MARK: End of the README quick start

/// Stands in for the app's own password check.
func checkPassword(username: String?, password: String, on req: Request) async throws -> Bool {
    username == "alice" && password == "secret"
}

@Suite struct ReadmeQuickStartTests {
    @Test func quickStartProtectsTheLogin() async throws {
        try await withApp(configure: configure) { (app) async throws in
            func login(_ password: String) async throws -> HTTPStatus {
                try await app.testing().sendRequest(
                    .POST, "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "username=alice&password=\(password)")
                ).status
            }
            #expect(try await login("secret") == .seeOther)
            for _ in 0..<3 { #expect(try await login("wrong") == .unauthorized) }
            #expect(try await login("wrong") == .forbidden)
            #expect(try await login("secret") == .forbidden)
        }
    }
}
