import DefenderHummingbird
import DefenderTesting
import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdBasicAuth
import HummingbirdTesting
import HTTPTypes
import NIOCore
import Synchronization
import Testing

/// The Hummingbird integration against a live server on loopback (the peer address is the socket's, as in
/// production): the login middleware, the one-reading route wrapper, Basic authentication and the error mapping.
@Suite struct HummingbirdLoginTests {
    struct LoginForm: Decodable, Sendable {
        var username: String
        var password: String
    }

    static func defender(_ environment: [String: String] = [:]) throws -> HummingbirdDefender {
        try HummingbirdDefender(configuration: .fromEnvironment(environment))
    }

    static func form(_ username: String, _ password: String) -> ByteBuffer {
        ByteBuffer(string: "username=\(username)&password=\(password)")
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// django-defender's default limit (3): the fourth failure locks the user, whose next login is refused even
    /// with the right password, with
    /// the lockout page, `Retry-After` and `Cache-Control: no-store`; the handler saw the username Defender counted.
    @Test func middlewareLocksTheUsernameAfterTheLimit() async throws {
        let defender = try Self.defender()
        let seen = SharedNames()
        let router = Router(context: BasicDefenderRequestContext.self)
        router.add(middleware: DefenderLoginMiddleware(defender, paths: ["/login"]))
        router.post("login") { request, context -> Response in
            let form = try await request.decode(as: LoginForm.self, context: context)
            seen.append(context.defender.username ?? "-")
            guard form.username == context.defender.username, form.password == "secret" else { return Response(status: .unauthorized) }
            return Response(status: .seeOther, headers: [.location: "/"])
        }
        var app = Application(router: router)
        app.addServices(defender.services)
        try await app.test(.live) { client in
            for _ in 0..<3 {
                let failed = try await client.execute(uri: "/login", method: .post, headers: Self.formHeaders, body: Self.form("alice", "wrong"))
                #expect(failed.status == .unauthorized)
            }
            let crossing = try await client.execute(uri: "/login", method: .post, headers: Self.formHeaders, body: Self.form("alice", "wrong"))
            #expect(crossing.status == .forbidden)
            let locked = try await client.execute(uri: "/login", method: .post, headers: Self.formHeaders, body: Self.form("alice", "secret"))
            #expect(locked.status == .forbidden)
            // The seconds left (the system clock runs on while a loaded machine runs the suite).
            #expect((250...300).contains(Int(locked.headers[.retryAfter] ?? "") ?? 0) && locked.headers[.cacheControl] == "no-store")
            #expect(locked.headers[.contentType] == "text/html; charset=utf-8")
            #expect(String(buffer: locked.body).contains("Account locked: too many login attempts.  Please try again later."))
            // A JSON client gets problem+json for the same lock.
            let json = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .accept: "application/json"],
                body: Self.form("alice", "secret"))
            #expect(json.status == .forbidden && json.headers[.contentType] == "application/problem+json; charset=utf-8")
            // A GET is only checked for a lock, never counted: this address is locked, so it is refused, and the
            // count stays.
            #expect(try await client.execute(uri: "/login", method: .get).status == .forbidden)
        }
        #expect(try await defender.engine.store.state(of: defender.engine.usernameKey("alice")).failures == 4)
        #expect(seen.names == ["alice", "alice", "alice", "alice"], "a locked request reached the handler")
    }

    /// A case-insensitive router lowercases its routes: a path configured as `/Login` still protects `/login`,
    /// whatever case the request uses (it protected nothing: the matched route never equalled `/Login`).
    @Test func middlewareProtectsACaseInsensitiveRoutersRoutes() async throws {
        let router = Router(context: BasicDefenderRequestContext.self, options: .caseInsensitive)
        router.add(middleware: DefenderLoginMiddleware(try Self.defender(), paths: ["/Login"]))
        router.post("Login") { _, _ in Response(status: .unauthorized) }
        try await Application(router: router).test(.live) { (client) async throws in
            var statuses: [HTTPResponse.Status] = []
            for path in ["/login", "/LOGIN", "/Login", "/lOgIn"] {
                statuses.append(try await client.execute(uri: path, method: .post, headers: Self.formHeaders, body: Self.form("alice", "x")).status)
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .forbidden])
        }
    }

    /// The credentials wrapper decodes once: the handler gets the decoded value whose username was counted, and a
    /// body that does not decode is counted against the IP and answered `400`.
    @Test func credentialsAreReadOnce() async throws {
        let defender = try Self.defender(["DEFENDER_LOGIN_FAILURE_LIMIT_IP": "5"])
        let router = Router(context: BasicDefenderRequestContext.self)
        router.post("api/login") { request, context in
            try await defender.watchLogin(LoginForm.self, username: \.username, request: request, context: context) { form in
                form.password == "secret" ? Response(status: .seeOther, headers: [.location: "/"]) : Response(status: .unauthorized)
            }
        }
        let app = Application(router: router)
        try await app.test(.live) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            let ok = try await client.execute(uri: "/api/login", method: .post, headers: json, body: ByteBuffer(string: #"{"username":"bob","password":"secret"}"#))
            #expect(ok.status == .seeOther)
            let unreadable = try await client.execute(uri: "/api/login", method: .post, headers: json, body: ByteBuffer(string: #"{"username":"bob""#))
            #expect(unreadable.status == .badRequest && unreadable.headers[.contentType] == "application/problem+json; charset=utf-8")
            let form = try await client.execute(uri: "/api/login", method: .post, headers: Self.formHeaders, body: Self.form("bob", "secret"))
            #expect(form.status == .seeOther, "a form body is read by the same decoder")
            let other = try await client.execute(uri: "/api/login", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "bob"))
            #expect(other.status == .badRequest)
        }
        // Two unreadable bodies counted against the IP (a successful login for bob cleared nothing of the IP's).
        let state = try await defender.engine.store.state(of: defender.engine.ipKey("127.0.0.1"))
        #expect(state.failures == 2)
    }

    /// Basic authentication: failures count, and a locked request never reaches the password verifier.
    @Test func basicFailuresCountAndLockedRequestsNeverReachTheVerifier() async throws {
        struct User: PasswordAuthenticatable { let name: String; let passwordHash: String? }
        let defender = try Self.defender()
        let verifications = SharedNames()
        let router = Router(context: BasicAuthDefenderContext<User>.self)
        router.group("api")
            .add(middleware: DefenderBasicAuthenticator(defender) { username, password, _ in
                verifications.append(username)
                return password == "secret" ? User(name: username, passwordHash: nil) : nil
            })
            .get("me") { _, context in try context.requireIdentity().name }
        let app = Application(router: router)
        @Sendable func basic(_ user: String, _ password: String) -> HTTPFields {
            [.authorization: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
        }
        try await app.test(.live) { client in
            let challenge = try await client.execute(uri: "/api/me", method: .get)
            #expect(challenge.status == .unauthorized && challenge.headers[.wwwAuthenticate]?.hasPrefix("Basic realm=") == true)
            let me = try await client.execute(uri: "/api/me", method: .get, headers: basic("carol", "secret"))
            #expect(me.status == .ok && String(buffer: me.body) == "carol")
            for _ in 0..<3 { #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("dave", "nope")).status == .unauthorized) }
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("dave", "nope")).status == .forbidden)
            let locked = try await client.execute(uri: "/api/me", method: .get, headers: basic("dave", "secret"))
            #expect(locked.status == .forbidden && locked.headers[.contentType] == "application/problem+json; charset=utf-8")
        }
        #expect(verifications.names == ["carol", "dave", "dave", "dave", "dave"], "a locked request reached the verifier")
    }

    /// A handler's thrown `401` that does not lock carries the `RateLimit` fields, as a returned one does.
    @Test func thrownUnauthorizedCarriesTheRateLimitFields() async throws {
        let defender = try Self.defender(["DEFENDER_RATELIMIT_HEADERS": "true"])
        let router = Router(context: BasicDefenderRequestContext.self)
        router.post("login") { request, context -> Response in
            try await defender.watchLogin(request, context: context) { _, _ in throw HTTPError(.unauthorized) }
        }
        try await Application(router: router).test(.router) { (client) async throws in
            let first = try await client.execute(uri: "/login", method: .post, headers: Self.formHeaders, body: Self.form("alice", "wrong"))
            #expect(first.status == .unauthorized)
            #expect(first.headers[HTTPField.Name("RateLimit")!] == "\"ip\";r=2;t=300, \"username\";r=2;t=300")
        }
    }

    /// django-defender's utils on Hummingbird (`is_already_locked`, `check_request`): a custom flow is counted and
    /// locked like a protected login, an allow-listed address is never counted, and a trusted device cookie that
    /// `lockout` lets through is not refused by `record` (the username stays locked for everyone else).
    @Test func manualHelpersJudgeAsAProtectedLoginDoes() async throws {
        @Sendable func app(_ defender: HummingbirdDefender) -> some ApplicationProtocol {
            let router = Router(context: BasicDefenderRequestContext.self)
            router.post("manual") { request, context -> Response in
                var context = context
                let form = try await request.decode(as: LoginForm.self, context: context)
                if let lockout = try await defender.lockout(request, context: &context, username: form.username) {
                    return defender.lockoutResponse(lockout, request: request)
                }
                let success = form.password == "secret"
                if let lockout = try await defender.record(success: success, request, context: &context, username: form.username) {
                    return defender.lockoutResponse(lockout, request: request)
                }
                return Response(status: success ? .ok : .unauthorized)
            }
            return Application(router: router)
        }
        @Sendable func post(_ client: some TestClientProtocol, _ username: String, _ password: String, cookie: String? = nil) async throws -> HTTPResponse.Status {
            var headers = Self.formHeaders
            if let cookie { headers[.cookie] = "defender_device=\(cookie)" }
            return try await client.execute(uri: "/manual", method: .post, headers: headers, body: Self.form(username, password)).status
        }
        try await app(Self.defender()).test(.live) { (client) async throws in
            for _ in 0..<3 { #expect(try await post(client, "m", "x") == .unauthorized) }
            #expect(try await post(client, "m", "x") == .forbidden)
            #expect(try await post(client, "m", "secret") == .forbidden)
        }
        let allowing = try Self.defender(["DEFENDER_IP_ALLOWLIST": "127.0.0.0/8"])
        try await app(allowing).test(.live) { (client) async throws in
            for _ in 0..<6 { #expect(try await post(client, "m", "x") == .unauthorized) }
        }
        #expect(try await allowing.engine.store.state(of: allowing.engine.usernameKey("m")).failures == 0)
        let trusting = try Self.defender(["DEFENDER_SECRET_KEY": "manual-helpers-device-key-0123456789-abcdef", "DEFENDER_LOGIN_FAILURE_LIMIT_IP": "100"])
        let cookie = try #require(trusting.engine.deviceCookies).issue(for: try #require(DefenderKey.username("d")))
        try await app(trusting).test(.live) { (client) async throws in
            for _ in 0..<3 { #expect(try await post(client, "d", "x") == .unauthorized) }
            #expect(try await post(client, "d", "x") == .forbidden)
            #expect(try await post(client, "d", "secret") == .forbidden)
            #expect(try await post(client, "d", "secret", cookie: cookie) == .ok)
            #expect(try await post(client, "d", "secret") == .forbidden, "the username stays locked")
        }
    }

    /// A verifier that throws `401` for a wrong password is counted like one that returns `nil` (the rule of a
    /// login handler, shared by every integration); a thrown server error is not counted.
    @Test func basicVerifierThrowingUnauthorizedCounts() async throws {
        struct User: PasswordAuthenticatable { let name: String; let passwordHash: String? }
        let router = Router(context: BasicAuthDefenderContext<User>.self)
        router.group("api")
            .add(middleware: DefenderBasicAuthenticator(try Self.defender()) { username, password, _ in
                if password == "boom" { throw HTTPError(.internalServerError) }
                guard password == "secret" else { throw HTTPError(.unauthorized) }
                return User(name: username, passwordHash: nil)
            })
            .get("me") { _, context in try context.requireIdentity().name }
        @Sendable func basic(_ password: String) -> HTTPFields {
            [.authorization: "Basic " + Data("dave:\(password)".utf8).base64EncodedString()]
        }
        try await Application(router: router).test(.router) { (client) async throws in
            for _ in 0..<5 { #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("boom")).status == .internalServerError) }
            for _ in 0..<3 { #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("nope")).status == .unauthorized) }
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("nope")).status == .forbidden)
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("secret")).status == .forbidden)
        }
    }

    /// hummingbird-auth's repository flow: the verifier checks every username — an unknown one against the
    /// unknown-user hash, so that it costs the same as a known one — and never a locked request.
    @Test func repositoryFlowChecksUnknownUsersAgainstTheDummyHash() async throws {
        struct User: PasswordAuthenticatable { let name: String; let passwordHash: String? }
        struct CountingVerifier: PasswordHashVerifier {
            let hashes: SharedNames
            func verifyPassword(_ password: String, createsHash hash: String) async throws -> Bool {
                hashes.append(hash)
                return hash == "hash-of-secret" && password == "secret"
            }
        }
        let defender = try Self.defender(["DEFENDER_DISABLE_IP_LOCKOUT": "true"])  // the username's rules alone
        let hashes = SharedNames()
        let users = UserPasswordClosureRepository<User> { name, _ in
            ["carol": User(name: "carol", passwordHash: "hash-of-secret"), "nohash": User(name: "nohash", passwordHash: nil)][name]
        }
        let router = Router(context: BasicAuthDefenderContext<User>.self)
        router.group("api")
            .add(middleware: DefenderBasicAuthenticator(defender, users: users, passwordHashVerifier: CountingVerifier(hashes: hashes), unknownUserHash: "dummy"))
            .get("me") { _, context in try context.requireIdentity().name }
        let app = Application(router: router)
        @Sendable func basic(_ user: String, _ password: String) -> HTTPFields {
            [.authorization: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
        }
        try await app.test(.live) { (client) async throws in
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("carol", "secret")).status == .ok)
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("nobody", "secret")).status == .unauthorized)
            // A user without a hash is refused even when the dummy check passed.
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("nohash", "secret")).status == .unauthorized)
            for _ in 0..<3 { #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("carol", "nope")).status == .unauthorized) }
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("carol", "nope")).status == .forbidden)
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: basic("carol", "secret")).status == .forbidden)
        }
        #expect(hashes.names == ["hash-of-secret", "dummy", "dummy"] + Array(repeating: "hash-of-secret", count: 4))
        #expect(DefenderBasicAuthenticator<BasicAuthDefenderContext<User>>.unknownUserBcrypt.hasPrefix("$2b$12$"))
    }

    /// Defender's errors answer with their status, as a page for a form and problem+json for a JSON client (here a
    /// forwarding header that a trusted proxy sent with no address in it: `400`).
    @Test func defenderErrorsAnswerAsProblems() async throws {
        let defender = try Self.defender(["DEFENDER_BEHIND_REVERSE_PROXY": "true"])
        let router = Router(context: BasicDefenderRequestContext.self)
        router.add(middleware: DefenderLoginMiddleware(defender, paths: ["/login"]))
        router.post("login") { _, _ in Response(status: .unauthorized) }
        let app = Application(router: router)
        try await app.test(.live) { client in
            let response = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", HTTPField.Name("X-Forwarded-For")!: "not-an-ip"],
                body: Self.form("alice", "x"))
            // A form: the same status and message as a page; a JSON client: problem+json.
            #expect(response.status == .badRequest && response.headers[.contentType] == "text/html; charset=utf-8")
            let json = try await client.execute(
                uri: "/login", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .accept: "application/json", HTTPField.Name("X-Forwarded-For")!: "not-an-ip"],
                body: Self.form("alice", "x"))
            #expect(json.status == .badRequest && json.headers[.contentType] == "application/problem+json; charset=utf-8")
        }
    }
}

/// A context with Basic authentication.
struct BasicAuthDefenderContext<Identity: Sendable>: DefenderRequestContext, AuthRequestContext {
    var coreContext: CoreRequestContextStorage
    var defender = DefenderRequestValues()
    var identity: Identity?
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var requestDecoder: DefenderRequestDecoder { DefenderRequestDecoder() }
}

/// Names recorded from concurrent handlers.
final class SharedNames: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ name: String) { storage.withLock { $0.append(name) } }
    var names: [String] { storage.withLock { $0 } }
}
