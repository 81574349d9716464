// The README's entry-point examples, compiled and run here; `readmeQuotesEveryExample` checks that the README
// holds each block between `// README:` and `// END README` word for word.
import DefenderMail
import DefenderVapor
import Fluent
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

// README: custom
func customLogin(_ app: Application) {
    app.post("custom-login") { req async throws -> Response in
        let engine = try req.defender.engine()
        // One reading: the credentials are decoded once, and this username is both counted and checked.
        guard let form = try await req.defender.credentials(LoginForm.self) else {
            // No username to check: counted against the IP alone, and refused.
            if let lockout = try await req.defender.throttle(username: .some(nil)) { return try await req.defender.lockoutResponse(lockout) }
            return Response(status: .badRequest)
        }
        // Admission: refused when locked; otherwise a slot is held until the outcome is recorded.
        switch try await req.defender.check(username: form.username) {
        case .locked(let lockout):
            return try await req.defender.lockoutResponse(lockout)
        case .allowed(let attempt):
            let valid: Bool
            do {
                valid = try await checkPassword(username: form.username, password: form.password, on: req)
            } catch {
                try await engine.release(attempt)  // not a failed login: give the slot back uncounted
                throw error
            }
            if valid {
                try await engine.recordSuccess(attempt)
                return req.redirect(to: "/")
            }
            if let lockout = try await engine.recordFailure(attempt) {
                return try await req.defender.lockoutResponse(lockout)  // this failure crossed the limit
            }
            return Response(status: .unauthorized)
        }
    }
}
// END README

// README: json
struct Credentials: Content {
    var username: String
    var password: String
}

func jsonLogin(_ app: Application) {
    app.post("api", "login") { req async throws -> Response in
        // Decoded once with Vapor's decoder for the request's media type; a body that does not decode is a 400,
        // counted against the IP.
        try await req.defender.watchLogin(Credentials.self, username: \.username, outcome: .status(.unauthorized), format: .json) { credentials in
            guard try await checkPassword(username: credentials.username, password: credentials.password, on: req) else {
                return req.defender.failedLogin(format: .json)  // a 401, counted; problem+json like the lockout
            }
            return Response(status: .ok)
        }
    }
}
// END README

// README: path
func pathLogin(_ app: Application) {
    // The source belongs to the route: the app's other logins keep reading their form.
    app.post("users", ":name", "login") { req async throws -> Response in
        try await req.defender.watchLogin(usernameFrom: .pathParameter("name"), outcome: .status(.unauthorized)) { username in
            let valid = try await checkPassword(username: username, password: req.defender.formField("password") ?? "", on: req)
            return Response(status: valid ? .ok : .unauthorized)
        }
    }
}
// END README

// README: basic
func basicAuthentication(_ app: Application) {
    let protected = app.grouped(DefenderBasicAuthenticator(realm: "My API") { username, password, req in
        try await checkPassword(username: username, password: password, on: req)  // log the user in here if you like
    })
    protected.get("api", "me") { req in "hello" }
}
// END README

// README: reset
func passwordReset(_ app: Application) {
    app.post("password-reset") { req async throws -> Response in
        // Every POST counts against the IP and the submitted username, whether or not the account exists.
        try await req.defender.watchPasswordReset { username in
            // Queue the e-mail off the request, and answer the same way for every username.
            return Response(status: .ok, body: "If the account exists, a reset link is on its way.")
        }
    }
}
// END README

// README: middleware
func middlewareMode(_ app: Application) {
    // django-defender's FailedLoginMiddleware: existing handlers stay as they are.
    app.middleware.use(DefenderLoginMiddleware(paths: ["/signin", "/admin/signin"]))
    app.post("signin") { req async throws -> Response in
        // Check the username Defender read (the field DEFENDER_USERNAME_FORM_FIELD, with Vapor's decoder).
        let username = try await req.defender.username()
        let valid = try await checkPassword(username: username, password: req.defender.formField("password") ?? "", on: req)
        return valid ? req.redirect(to: "/") : Response(status: .ok, body: "Wrong username or password.")
    }
}
// END README

// README: typed-configuration
func typedConfiguration(_ app: Application) throws {
    var config = try DefenderConfiguration.fromEnvironment()  // every DEFENDER_* variable over the defaults
    config.loginFailureLimit = 5
    config.cooloffTime = .seconds(600)
    config.behindReverseProxy = true
    config.rateLimitHeaders = true
    app.defender.configuration = config  // validated when the engine is built: a bad value stops start-up
}
// END README

// README: events
/// Your own reaction to blocks; here a firewall that holds the addresses it drops.
actor Firewall {
    private(set) var dropped: Set<String> = []
    func drop(_ ip: String) { dropped.insert(ip) }
    func allow(_ ip: String) { dropped.remove(ip) }
}

func watchEvents(_ app: Application, firewall: Firewall) {
    app.defender.events.on { event in
        switch event {
        case .ipBlocked(let ip): await firewall.drop(ip)  // "203.0.113.7", or an IPv6 group "2001:db8::/64"
        case .ipUnblocked(let ip): await firewall.allow(ip)
        case .usernameBlocked, .usernameUnblocked: app.logger.notice("\(event)")  // "usernameBlocked ********"
        // A username blocked from one shared address (carrier-grade NAT): the address stays open to the others.
        case .pairBlocked, .pairUnblocked: app.logger.notice("\(event)")  // "pairBlocked ********"
        // A trusted browser's device locked after guesses through its cookie; its owner getting in during a lockout.
        case .deviceBlocked, .deviceUnblocked, .trustedLoginDuringLockout: app.logger.notice("\(event)")
        }
    }
}
// END README

/// The README's detailed handler, compiled: the cause of each block.
func watchSlowGuessing(_ app: Application) {
// README: detailed events
app.defender.events.on(detailed: { event, cause in
    if event.isBlock, cause == .longWindow { app.logger.warning("slow guessing: \(event)") }
})
// END README
}

/// The README's unlock e-mail set-up, compiled; `unlockRoutesAnswer` runs it.
func unlockMails(_ app: Application) throws {
// README: unlock
let unlockMail = try UnlockMailService(
    defender: try app.defender.engine(), mailer: SMTPMailer(server: try SMTPServerURL("smtp://mail.example.com:587")),
    publicURL: "https://example.com",
    emailAddress: { username in try await User.emailAddress(of: username, on: app.db) })
app.defender.run(unlockMail)
DefenderUnlockRoutes().register(on: app)            // GET and POST /unlock/:token
// END README
}

extension User {
    /// The README's address lookup: the examples' users table has no address column, so each user's address is
    /// made from its name; an unknown username has none.
    static func emailAddress(of username: String, on db: any Database) async throws -> String? {
        try await User.query(on: db).filter(\.$username == username).first().map { "\($0.username)@example.com" }
    }
}

@Suite struct ReadmeEntryPointsTests {
    func withExamples(_ configure: @escaping (Application) -> Void, _ test: (Application) async throws -> Void) async throws {
        try await withApp { (app) async throws in
            app.logger.logLevel = .warning
            try await prepareUsers(app)
            configure(app)
            try await test(app)
        }
    }

    func post(_ app: Application, _ path: String, _ body: String, json: Bool = false, headers: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var headers = headers
        headers.contentType = json ? .json : .urlEncodedForm
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(string: body))
    }

    /// Three failures, then the crossing one is locked out, then even the right password is refused.
    func expectLimit(_ attempt: (Bool) async throws -> HTTPStatus, failure: HTTPStatus, success: HTTPStatus) async throws {
        #expect(try await attempt(true) == success)
        for _ in 0..<3 { #expect(try await attempt(false) == failure) }
        #expect(try await attempt(false) == .forbidden)
        #expect(try await attempt(true) == .forbidden)
    }

    @Test func customFlow() async throws {
        try await withExamples(customLogin) { (app) async throws in
            #expect(try await post(app, "/custom-login", "{bad", json: true).status == .badRequest)
            #expect(try await app.defender.engine().store.state(of: .ip(ClientAddress(address: IPAddress("127.0.0.1")!))).failures == 1)
            try await app.defender.engine().unblock(ip: "127.0.0.1")
            try await expectLimit({ right in
                try await post(app, "/custom-login", "username=alice&password=\(right ? "secret" : "wrong")").status
            }, failure: .unauthorized, success: .seeOther)
            #expect(try await app.defender.engine().store.state(of: .ip(ClientAddress(address: IPAddress("127.0.0.1")!))).failures == 4)
        }
    }

    @Test func jsonFlow() async throws {
        try await withExamples(jsonLogin) { (app) async throws in
            // Nobody can be checked from an unreadable body: a 400, counted against the IP alone.
            #expect(try await post(app, "/api/login", "not json", json: true).status == .badRequest)
            #expect(try await app.defender.engine().store.state(of: .ip(ClientAddress(address: IPAddress("127.0.0.1")!))).failures == 1)
            try await app.defender.engine().unblock(ip: "127.0.0.1")
            try await expectLimit({ right in
                try await post(app, "/api/login", "{\"username\":\"alice\",\"password\":\"\(right ? "secret" : "wrong")\"}", json: true).status
            }, failure: .unauthorized, success: .ok)
            let locked = try await post(app, "/api/login", "{\"username\":\"alice\",\"password\":\"x\"}", json: true)
            #expect(locked.headers.contentType?.subType == "problem+json")
            // A failure answers in the same format, not Vapor's {"error":true}.
            try await app.defender.engine().unblock(username: "alice")
            try await app.defender.engine().unblock(ip: "127.0.0.1")
            let failed = try await post(app, "/api/login", "{\"username\":\"alice\",\"password\":\"x\"}", json: true)
            #expect(failed.status == .unauthorized && failed.headers.contentType?.subType == "problem+json")
        }
    }

    @Test func pathFlow() async throws {
        try await withExamples(pathLogin) { (app) async throws in
            try await expectLimit({ right in
                try await post(app, "/users/alice/login", "password=\(right ? "secret" : "wrong")").status
            }, failure: .unauthorized, success: .ok)
            let engine = try app.defender.engine()
            #expect(try await engine.store.state(of: engine.usernameKey("alice")).block != nil)
            #expect(try await post(app, "/users/ALICE/login", "password=secret").status == .forbidden)  // the same key
        }
    }

    @Test func basicFlow() async throws {
        try await withExamples(basicAuthentication) { (app) async throws in
            try await expectLimit({ right in
                let credentials = Data("alice:\(right ? "secret" : "wrong")".utf8).base64EncodedString()
                return try await app.testing().sendRequest(.GET, "/api/me", headers: ["Authorization": "Basic \(credentials)"]).status
            }, failure: .unauthorized, success: .ok)
        }
    }

    @Test func resetFlow() async throws {
        try await withExamples(passwordReset) { (app) async throws in
            for name in ["alice", "bob", "carol"] { #expect(try await post(app, "/password-reset", "username=\(name)").status == .ok) }
            #expect(try await post(app, "/password-reset", "username=dave").status == .forbidden)  // the IP's 4th
        }
    }

    @Test func middlewareFlow() async throws {
        try await withExamples(middlewareMode) { (app) async throws in
            try await expectLimit({ right in
                try await post(app, "/signin", "username=alice&password=\(right ? "secret" : "wrong")").status
            }, failure: .ok, success: .seeOther)
            #expect(try await post(app, "/signin/", "username=alice&password=secret").status == .forbidden)  // trailing slash: same route
            // A method the app has no route for is a 404 with nothing to protect: routes are matched, not URLs.
            #expect(try await app.testing().sendRequest(.GET, "/signin/").status == .notFound)
            // Every spelling the router sends to the same handler is protected (the route, not the URL, is matched).
            for spelling in ["/signin//", "//signin"] {
                #expect(try await post(app, spelling, "username=alice&password=secret").status == .forbidden, "\(spelling)")
            }
            // Other paths are untouched by the middleware.
            app.post("other") { _ in Response(status: .ok) }
            for _ in 0..<6 { #expect(try await post(app, "/other", "username=zed&password=x").status == .ok) }
        }
    }

    /// The events example: a lockout drops the address, an unblock allows it again. (The bus runs with the app:
    /// booted here as `serve` boots it.)
    @Test func eventsFlow() async throws {
        let firewall = Firewall()
        try await withExamples({ app in
            watchEvents(app, firewall: firewall)
            app.post("login") { req in try await req.defender.watchLogin { _ in Response(status: .unauthorized) } }
        }) { (app) async throws in
            try await app.asyncBoot()
            for _ in 0..<4 { _ = try await post(app, "/login", "username=alice&password=x") }
            var dropped: Set<String> = []
            for _ in 0..<200 where dropped.isEmpty {
                dropped = await firewall.dropped
                if dropped.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(dropped == ["127.0.0.1"])
            try await app.defender.engine().unblock(ip: "127.0.0.1")
            for _ in 0..<200 where !(await firewall.dropped.isEmpty) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(await firewall.dropped.isEmpty)
        }
    }

    /// The typed configuration: the values set in code are the engine's (over the environment's).
    @Test func typedConfigurationFlow() async throws {
        try await withExamples({ app in try? typedConfiguration(app) }) { (app) async throws in
            let configuration = try app.defender.engine().configuration
            #expect(configuration.loginFailureLimit == 5 && configuration.cooloffTime == .seconds(600))
            #expect(configuration.behindReverseProxy && configuration.rateLimitHeaders)
        }
    }

    /// The unlock set-up of the README starts with the app (a secret key and a sender set) and its routes answer:
    /// a token that is not one is refused with `400`, and its page is never cached.
    @Test func unlockRoutesAnswer() async throws {
        try await withApp { (app) async throws in
            var config = DefenderConfiguration()
            config.secretKeys = [DefenderSecret("readme-secret-key-0123456789-abcdefghij")]
            config.unlockMail.mailFrom = "security@example.com"
            app.defender.configuration = config
            try await prepareUsers(app)
            try unlockMails(app)
            #expect(try await User.emailAddress(of: "alice", on: app.db) == "alice@example.com")
            #expect(try await User.emailAddress(of: "nobody", on: app.db) == nil)
            let answer = try await app.testing().sendRequest(.POST, "/unlock/not-a-token")
            #expect(answer.status == .badRequest && answer.headers.first(name: .cacheControl) == "no-store")
        }
    }

    @Test func readmeQuotesEveryExample() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: here, encoding: .utf8)
            + (try String(contentsOf: root.appendingPathComponent("Tests/DefenderDemoTests/ReadmeOperatorTests.swift"), encoding: .utf8))
            + (try String(contentsOf: root.appendingPathComponent("Tests/DefenderHummingbirdTests/ReadmeHummingbirdTests.swift"), encoding: .utf8))
        var blocks: [String] = []
        var current: [String]?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("// README: ") {
                current = []
            } else if line == "// END README" {
                blocks.append(current?.joined(separator: "\n") ?? "")
                current = nil
            } else if current != nil {
                current?.append(String(line))
            }
        }
        #expect(blocks.count == 12)
        // And the quick start.
        let quickStart = try String(contentsOf: here.deletingLastPathComponent().appendingPathComponent("ReadmeQuickStartTests.swift"), encoding: .utf8)
        if let start = quickStart.range(of: "// MARK: README quick start (keep in sync with README.md)\n\n"),
            let end = quickStart.range(of: "\n// MARK: End of the README quick start")
        {
            blocks.append(String(quickStart[start.upperBound..<end.lowerBound]).trimmingCharacters(in: .newlines))
        } else {
            Issue.record("the quick start markers are missing")
        }
        for block in blocks { #expect(readme.contains(block), "README lacks:\n\(block.prefix(200))") }
    }
}
