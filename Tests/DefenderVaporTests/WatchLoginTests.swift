import DefenderTesting
import DefenderVapor
import Foundation
import NIOCore
import Synchronization
import Testing
import Vapor
import VaporTesting

/// The library in a minimal app: the outcome detectors, username sources, helpers and responses.
@Suite struct WatchLoginTests {
    static let password = "right"

    /// A small app: `/login` (redirect on success), `/custom` (401 + message), `/throwing`, `/broken`, `/manual`.
    func withTestApp(_ configure: (inout DefenderConfiguration) -> Void = { _ in }, setup: (Application) -> Void = { _ in }, _ test: (Application) async throws -> Void) async throws {
        try await withApp { (app) async throws in
            var config = DefenderConfiguration()
            configure(&config)
            app.defender.configuration = config
            app.defender.clock = ManualClock()
            app.logger.logLevel = .warning
            setup(app)
            app.on(.GET, "login") { req in try await req.defender.watchLogin { _ in Response(status: .ok) } }
            app.on(.POST, "login") { req in
                try await req.defender.watchLogin { _ in
                    req.defender.formField("password") == Self.password
                        ? Response(status: .found, headers: ["Location": "/"]) : Response(status: .ok, body: "form again")
                }
            }
            app.on(.POST, "custom") { req in
                try await req.defender.watchLogin(outcome: .status(.unauthorized, message: "Invalid credentials")) { _ in
                    if req.defender.formField("password") == Self.password { return Response(status: .ok) }
                    return Response(status: .unauthorized, body: .init(string: req.query[String.self, at: "body"] ?? "Sorry, Invalid credentials"))
                }
            }
            app.on(.POST, "throwing") { req in
                try await req.defender.watchLogin { _ -> Response in throw Abort(.unauthorized) }
            }
            app.on(.POST, "broken") { req in
                try await req.defender.watchLogin { _ -> Response in throw Abort(.internalServerError) }
            }
            app.on(.POST, "users", ":name", "login") { req in
                try await req.defender.watchLogin { name in Response(status: .ok, body: .init(string: name ?? "-")) }
            }
            app.on(.POST, "manual") { req async throws -> Response in
                if let lockout = try await req.defender.lockout() { return try await req.defender.lockoutResponse(lockout) }
                let success = req.defender.formField("password") == Self.password
                if let lockout = try await req.defender.record(success: success) { return try await req.defender.lockoutResponse(lockout) }
                return Response(status: success ? .ok : .unauthorized)
            }
            try await test(app)
        }
    }

    @discardableResult
    func post(_ app: Application, _ path: String, _ body: String, headers: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var headers = headers
        if headers.contentType == nil { headers.contentType = .urlEncodedForm }
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(string: body))
    }

    // Ported: test_login_blocked_for_non_standard_login_views_without_msg / _with_msg (#43, #44).
    @Test func statusDetectorCountsMatchingResponses() async throws {
        try await withTestApp({ $0.loginFailureLimitIP = 3 }) { (app) async throws in
            for _ in 0..<3 { #expect(try await post(app, "/custom", "username=a&password=x").status == .unauthorized) }
            #expect(try await app.defender.engine().allBlocks(of: .ip).isEmpty)
            #expect(try await post(app, "/custom", "username=b&password=x").status == .forbidden)
            #expect(try await app.defender.engine().allBlocks(of: .ip).map(\.key.value) == ["127.0.0.1"])
        }
    }

    // Ported: test_login_non_blocked_for_non_standard_login_views_different_msg (#45).
    @Test func statusDetectorIgnoresOtherMessages() async throws {
        try await withTestApp { (app) async throws in
            for _ in 0..<6 {
                #expect(try await post(app, "/custom?body=Ups,%20wrong%20credentials", "username=a&password=x").status == .unauthorized)
            }
            #expect(try await app.defender.engine().allBlocks(of: .ip).isEmpty)
        }
    }

    // Ported: test_login_blocked_for_non_standard_login_views_different_username (#46): a custom getter.
    @Test func customUsernameExtractor() async throws {
        try await withTestApp({
            $0.disableIPLockout = true
            $0.loginFailureLimitUsername = 3
        }, setup: { app in app.defender.usernameExtractor = { req in req.defender.formField("email") } }) { (app) async throws in
            for _ in 0..<3 { #expect(try await post(app, "/login", "email=email@localhost&password=x").status == .ok) }
            #expect(try await post(app, "/login", "email=email@localhost&password=x").status == .forbidden)
            #expect(try await app.defender.engine().allBlocks(of: .username).map(\.key.value) == ["email@localhost"])
            #expect(try await post(app, "/login", "email=email@localhost&password=x").status == .forbidden)
        }
    }

    // Ported: test_get_view (#38): GETs are never counted.
    @Test func getIsNotCounted() async throws {
        try await withTestApp { (app) async throws in
            for _ in 0..<11 { #expect(try await app.testing().sendRequest(.GET, "/login").status == .ok) }
        }
    }

    @Test func thrownUnauthorizedCountsButServerErrorsDoNot() async throws {
        try await withTestApp { (app) async throws in
            for _ in 0..<5 { #expect(try await post(app, "/broken", "username=a").status == .internalServerError) }
            for _ in 0..<3 { #expect(try await post(app, "/throwing", "username=a").status == .unauthorized) }
            #expect(try await post(app, "/throwing", "username=a").status == .forbidden)
        }
    }

    /// A Basic verifier that throws `401` for a wrong password is counted like one that returns `false` (the rule
    /// of a login handler, shared by every integration); a thrown server error is not counted.
    @Test func basicVerifierThrowingUnauthorizedCounts() async throws {
        try await withTestApp(setup: { app in
            app.grouped(DefenderBasicAuthenticator { _, password, _ in
                if password == "boom" { throw Abort(.internalServerError) }
                guard password == Self.password else { throw Abort(.unauthorized) }
                return true
            }).get("api") { _ in "ok" }
        }) { (app) async throws in
            func basic(_ password: String) -> HTTPHeaders {
                ["Authorization": "Basic " + Data("dave:\(password)".utf8).base64EncodedString()]
            }
            for _ in 0..<5 { #expect(try await app.testing().sendRequest(.GET, "/api", headers: basic("boom")).status == .internalServerError) }
            for _ in 0..<3 { #expect(try await app.testing().sendRequest(.GET, "/api", headers: basic("nope")).status == .unauthorized) }
            #expect(try await app.testing().sendRequest(.GET, "/api", headers: basic("nope")).status == .forbidden)
            #expect(try await app.testing().sendRequest(.GET, "/api", headers: basic(Self.password)).status == .forbidden)
        }
    }

    /// A thrown `401` that does not lock carries the `RateLimit` fields, as a returned one does (the login rules add
    /// them to the framework's error).
    @Test func thrownUnauthorizedCarriesTheRateLimitFields() async throws {
        try await withTestApp({ $0.rateLimitHeaders = true }) { (app) async throws in
            let first = try await post(app, "/throwing", "username=a")
            #expect(first.status == .unauthorized)
            #expect(first.headers.first(name: "RateLimit") == "\"ip\";r=2;t=300, \"username\";r=2;t=300")
        }
    }

    /// A thrown `Abort` keeps its reason and identifier when the fields are added; an app's own `AbortError` type
    /// reaches the app's error middleware as itself (it was once replaced by an `Abort`, which that middleware did
    /// not recognise), and still counts as a failure.
    @Test func thrownErrorsKeepTheirIdentity() async throws {
        struct AppError: AbortError {
            var status: HTTPResponseStatus { .unauthorized }
            var reason: String { "app's own" }
        }
        struct AppErrorMiddleware: AsyncMiddleware {
            func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
                do { return try await next.respond(to: request) } catch is AppError {
                    return Response(status: .unauthorized, body: "rendered by the app")
                }
            }
        }
        try await withTestApp({ $0.rateLimitHeaders = true; $0.loginFailureLimitIP = 100 }, setup: { app in
            app.grouped(AppErrorMiddleware()).on(.POST, "app-error") { req in
                try await req.defender.watchLogin { _ -> Response in throw AppError() }
            }
            app.on(.POST, "reasoned") { req in
                try await req.defender.watchLogin { _ -> Response in throw Abort(.unauthorized, reason: "Wrong password, try again") }
            }
        }) { (app) async throws in
            let reasoned = try await post(app, "/reasoned", "username=r")
            #expect(reasoned.status == .unauthorized && reasoned.body.string.contains("Wrong password, try again"))
            #expect(reasoned.headers.first(name: "RateLimit")?.hasSuffix("\"username\";r=2;t=300") == true)
            for attempt in 1...3 {
                let response = try await post(app, "/app-error", "username=a")
                #expect(response.status == .unauthorized && response.body.string == "rendered by the app", "attempt \(attempt)")
            }
            #expect(try await post(app, "/app-error", "username=a").status == .forbidden, "the failure that crosses the limit")
            let engine = try app.defender.engine()
            #expect(try await engine.store.state(of: engine.usernameKey("a")).block != nil, "the app's error counted as a failure")
        }
    }

    /// The webhook notifier dumps and prints with its URL's path (a chat service's secret) and its secret hidden.
    @Test func theWebhookNotifierNeverRendersItsSecrets() {
        let notifier = DefenderWebhookNotifier(url: "https://hooks.example/T0/B0/HookPathS3cret", secret: DefenderSecret("SigningSecret123456"))
        for text in everyRendering(of: notifier) {
            #expect(!text.contains("HookPathS3cret") && !text.contains("SigningSecret123456") && text.contains("hooks.example"), "\(text)")
        }
    }

    @Test func redirectDetector() async throws {
        try await withTestApp { (app) async throws in
            for _ in 0..<3 { #expect(try await post(app, "/login", "username=a&password=x").status == .ok) }
            #expect(try await post(app, "/login", "username=a&password=right").status == .found)
            let engine = try app.defender.engine()
            #expect(try await engine.store.state(of: engine.usernameKey("a")).failures == 0)
        }
    }

    @Test func usernameSources() async throws {
        try await withTestApp({ $0.usernameSource = .pathParameter("name") }) { (app) async throws in
            #expect(try await post(app, "/users/Carol/login", "").text == "Carol")
        }
        try await withTestApp({ $0.usernameSource = .jsonField; $0.usernameFormField = "login" }) { (app) async throws in
            let response = try await post(app, "/users/x/login", "{\"login\": \"dave\"}", headers: ["Content-Type": "application/json"])
            #expect(response.text == "dave")
            // One reading: the body is read with the decoder of its media type, so JSON sent as text/plain names no
            // username (the app's own decoder would not read one either).
            #expect(try await post(app, "/users/x/login", "{\"login\": \"dave\"}", headers: ["Content-Type": "text/plain"]).text == "-")
            #expect(try await post(app, "/users/x/login", "login=frank").text == "frank")
        }
        try await withTestApp { (app) async throws in
            #expect(try await post(app, "/users/x/login", "{\"username\": \"erin\"}", headers: ["Content-Type": "application/json"]).text == "erin")
            #expect(try await post(app, "/users/x/login", "{\"username\": 5}", headers: ["Content-Type": "application/json"]).text == "-")
            #expect(try await post(app, "/users/x/login", "not json", headers: ["Content-Type": "application/json"]).text == "-")
        }
    }

    // Ported: utils.is_already_locked / check_request (README's custom-flow example).
    @Test func manualHelpers() async throws {
        try await withTestApp { (app) async throws in
            for _ in 0..<3 { #expect(try await post(app, "/manual", "username=m&password=x").status == .unauthorized) }
            #expect(try await post(app, "/manual", "username=m&password=x").status == .forbidden)
            #expect(try await post(app, "/manual", "username=m&password=right").status == .forbidden)
        }
    }

    /// The manual helpers judge a request as a protected login does: an allow-listed address is never counted (it
    /// was, and then refused, through `record`), and a trusted device cookie that `lockout()` lets through is not
    /// refused by `record(success:)` (it was: `record` ignored the cookie).
    @Test func manualHelpersJudgeAsAProtectedLoginDoes() async throws {
        try await withTestApp({ $0.ipAllowlist = [IPNetwork("127.0.0.0/8")!] }) { (app) async throws in
            for _ in 0..<6 { #expect(try await post(app, "/manual", "username=m&password=x").status == .unauthorized) }
            let engine = try app.defender.engine()
            #expect(try await engine.store.state(of: engine.usernameKey("m")).failures == 0)
        }
        let key = "manual-helpers-device-key-0123456789-abcdef"
        try await withTestApp({ $0.secretKeys = [DefenderSecret(key)]; $0.loginFailureLimitIP = 100 }) { (app) async throws in
            for _ in 0..<3 { #expect(try await post(app, "/manual", "username=d&password=x").status == .unauthorized) }
            #expect(try await post(app, "/manual", "username=d&password=x").status == .forbidden)
            #expect(try await post(app, "/manual", "username=d&password=right").status == .forbidden)
            let engine = try app.defender.engine()
            let cookie = try #require(engine.deviceCookies).issue(for: try #require(DefenderKey.username("d")))
            let trusted: HTTPHeaders = ["Cookie": "defender_device=\(cookie)"]
            #expect(try await post(app, "/manual", "username=d&password=right", headers: trusted).status == .ok)
            #expect(try await post(app, "/manual", "username=d&password=right").status == .forbidden, "the username stays locked")
        }
    }

    /// A client trusted through its device cookie is counted on its device, against the device limit: the
    /// `RateLimit` fields name that dimension `"device"` with its own limit (they gave the username's limit and
    /// count, so a trusted owner saw `r=0` with failures left).
    @Test func rateLimitFieldsNameTheDeviceOfATrustedClient() async throws {
        let configure: (inout DefenderConfiguration) -> Void = {
            $0.secretKeys = [DefenderSecret("rate-limit-device-key-0123456789-abcdef")]
            $0.loginFailureLimitIP = 100
            $0.deviceCookies.failureLimit = 5
            $0.rateLimitHeaders = true
        }
        try await withTestApp(configure) { (app) async throws in
            for _ in 0..<4 { try await post(app, "/login", "username=d&password=x") }
            let engine = try app.defender.engine()
            let cookie = try #require(engine.deviceCookies).issue(for: try #require(DefenderKey.username("d")))
            let trusted = try await post(app, "/login", "username=d&password=x", headers: ["Cookie": "defender_device=\(cookie)"])
            #expect(trusted.status == .ok)
            #expect(trusted.headers.first(name: "RateLimit-Policy") == "\"ip\";q=100;w=300, \"device\";q=5;w=300")
            #expect(trusted.headers.first(name: "RateLimit") == "\"ip\";r=95;t=300, \"device\";r=4;t=300")
            let plain = try await post(app, "/login", "username=d&password=x")
            #expect(plain.status == .forbidden && plain.headers.first(name: "RateLimit")?.contains("\"username\";r=0") == true)
        }
    }

    @Test func responseFormatFollowsAccept() async throws {
        try await withTestApp { (app) async throws in
            for _ in 0..<4 { try await post(app, "/login", "username=a&password=x") }
            let cases: [(String, String?)] = [
                ("application/json", "problem+json"), ("text/html,application/json;q=0.9", "html"),
                ("application/problem+json, text/html", "problem+json"), ("*/*", "html"),
            ]
            for (accept, subtype) in cases {
                let response = try await post(app, "/login", "username=a", headers: ["Accept": accept])
                #expect(response.status == .forbidden)
                #expect(response.headers.contentType?.subType == subtype, "\(accept)")
            }
            let json = try await post(app, "/login", "{}", headers: ["Content-Type": "application/json"])
            #expect(json.headers.contentType?.subType == "problem+json")
        }
    }

    // Ported: test_failed_login_redirect_to_template (#25): the template gets django-defender's context.
    @Test func lockoutTemplateIsRenderedWithTheContext() async throws {
        let renderer = RecordingRenderer()
        try await withTestApp({
            $0.lockoutTemplate = "defender/lockout"
            $0.lockoutURL = "/ignored"  // the template takes precedence
            $0.cooloffTime = .seconds(90)
        }, setup: { app in app.views.use { _ in renderer } }) { (app) async throws in
            for _ in 0..<4 { try await post(app, "/login", "username=a&password=x") }
            let response = try await post(app, "/login", "username=a")
            #expect(response.status == .forbidden && response.retryAfter == "90")
            #expect(response.text == "rendered defender/lockout")
            let context = try #require(renderer.lastContext)
            #expect(context["cooloff_time_seconds"] as? Int == 90)
            #expect(context["cooloff_time_minutes"] as? Double == 1.5)
            #expect(context["failure_limit"] as? Int == 3)
        }
    }

    @Test func eventsReachHandlersThroughTheApp() async throws {
        let seen = Mutex<[String]>([])
        try await withTestApp(setup: { app in app.defender.events.on { event in seen.withLock { $0.append(event.description(redacted: false)) } } }) { (app) async throws in
            for _ in 0..<4 { try await post(app, "/login", "username=a&password=x") }
            for _ in 0..<100 where seen.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(Set(seen.withLock { $0 }) == ["ipBlocked 127.0.0.1", "usernameBlocked a"])
    }

    @Test func invalidConfigurationStopsBoot() async throws {
        try await withApp { (app) async throws in
            var config = DefenderConfiguration()
            config.loginFailureLimit = -1
            app.defender.configuration = config
            #expect(throws: DefenderError.self) { try app.boot() }
        }
    }

    @Test func errorsMapToStatuses() {
        #expect(DefenderError(.invalidKey, "x").status == .badRequest)
        #expect(DefenderError(.malformedForwardingHeader, "x").status == .badRequest)
        #expect(DefenderError(.storeUnavailable, "x").status == .serviceUnavailable)
        #expect(DefenderError(.invalidConfiguration, "x", setting: "S").status == .internalServerError)
        #expect(DefenderError(.invalidConfiguration, "bad", setting: "S").reason == "bad")
        #expect(DefenderError(.admissionTimeout, "x").status == .serviceUnavailable)
        #expect(DefenderError(.admissionTimeout, "x").headers.first(name: .retryAfter) == "1")
        #expect(DefenderError(.storeUnavailable, "x").headers.first(name: .retryAfter) == nil)
    }

    /// Vapor's error middleware reports every error it answers (`Logger.report(error:)`): the errors a client
    /// causes once per request are reported at `debug`, so an app logging at `info` gets no line per request from
    /// them; what someone must fix still reaches its log.
    @Test func perRequestErrorsAreNotLoggedPerRequest() {
        let logs = LogCapture()
        var logger = logs.logger
        logger.logLevel = .info
        for code in [DefenderError.Code.admissionTimeout, .storeUnavailable, .malformedForwardingHeader, .invalidKey] {
            for _ in 0..<100 { logger.report(error: DefenderError(code, "per request")) }
        }
        #expect(logs.messages.isEmpty, "\(logs.messages.prefix(3))")
        logger.report(error: DefenderError(.invalidConfiguration, "fix me", setting: "DEFENDER_X"))
        logger.report(error: DefenderError(.storeFault, "WRONGTYPE"))
        #expect(logs.messages.count == 2 && logs.messages.allSatisfy { $0.hasPrefix("[error]") }, "\(logs.messages)")
    }

    /// Every way out of a protected handler gives the admission slot back: recorded outcomes, uncounted
    /// responses, thrown errors and cancellation.
    @Test func everyPathReleasesTheSlot() async throws {
        try await withTestApp(setup: { app in
            app.on(.POST, "uncounted") { req in
                try await req.defender.watchLogin(outcome: .init { _ in .notCounted }) { _ in Response(status: .ok) }
            }
            app.on(.POST, "cancelled") { req in
                try await req.defender.watchLogin { _ -> Response in
                    withUnsafeCurrentTask { $0?.cancel() }
                    try Task.checkCancellation()
                    return Response(status: .ok)
                }
            }
        }) { (app) async throws in
            let engine = try app.defender.engine()
            let store = try #require(engine.store as? MemoryAttemptStore)
            let ip = ClientAddress(address: IPAddress("127.0.0.1")!)
            for path in ["login", "throwing", "broken", "uncounted", "cancelled", "custom", "manual"] {
                _ = try? await post(app, "/\(path)", "username=slot-\(path)&password=wrong")
                #expect(store.inFlight(.ip(ip)) == 0, "\(path)")
                #expect(store.inFlight(try engine.usernameKey("slot-\(path)")) == 0, "\(path)")
            }
            // Successes too.
            try await post(app, "/login", "username=slot-ok&password=\(Self.password)")
            #expect(store.inFlight(.ip(ip)) == 0)
        }
    }

    @Test func admissionTimeoutIsA503WithRetryAfter() async throws {
        try await withTestApp({ $0.admissionTimeout = .milliseconds(30) }) { (app) async throws in
            let engine = try app.defender.engine()
            let ip = ClientAddress(address: IPAddress("127.0.0.1")!)
            // Four checks in flight on the IP (limit 3) from elsewhere in the app: the next one cannot be admitted.
            for index in 0..<4 { _ = try await engine.check(ip: ip, username: "held\(index)") }
            let response = try await post(app, "/login", "username=late&password=\(Self.password)")
            #expect(response.status == .serviceUnavailable && response.retryAfter == "1")
            #expect(try await engine.store.state(of: engine.usernameKey("late")).failures == 0)
        }
    }
}

/// Captures the context a view is rendered with (a stand-in for Leaf or any `ViewRenderer`).
final class RecordingRenderer: ViewRenderer, @unchecked Sendable {
    private let lock = NSLock()
    private var context: [String: Any]?

    var lastContext: [String: Any]? { lock.withLock { context } }

    func `for`(_ request: Request) -> any ViewRenderer { self }

    func render<E: Encodable>(_ name: String, _ context: E) -> EventLoopFuture<View> {
        let data = (try? JSONEncoder().encode(context)) ?? Data()
        let decoded = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        lock.withLock { self.context = decoded }
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        buffer.writeString("rendered \(name)")
        return MultiThreadedEventLoopGroup.singleton.any().makeSucceededFuture(View(data: buffer))
    }
}

extension TestingHTTPResponse {
    var text: String { String(buffer: body) }
    var retryAfter: String? { headers.first(name: .retryAfter) }
}
