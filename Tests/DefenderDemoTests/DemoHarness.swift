import DefenderCore
import DefenderDemoApp
import DefenderFluent
import DefenderHTTP
import DefenderHummingbird
import DefenderHummingbirdDemoApp
import DefenderTesting
import DefenderVapor
import Fluent
import FluentKit
import NIOCore
import Testing
import Vapor
import VaporTesting

/// The two demos every contract test can run against: the same routes, settings and answers (DESIGN §5).
enum DemoFramework: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case vapor, hummingbird

    var testDescription: String { rawValue }
}

/// An answer as a test reads it, whichever demo gave it.
struct DemoResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    var text: String { String(buffer: body) }
    var retryAfter: String? { headers.first(name: .retryAfter) }
}

/// Runs a test against one demo on an in-memory database with cheap bcrypt: the Vapor demo in process (with a
/// manual clock), or the Hummingbird demo served on a free loopback port with its services running.
func withDemo(
    _ environment: [String: String] = [:], users: [(String, String)] = [("alice", "secret1")], on framework: DemoFramework = .vapor,
    _ test: (Demo) async throws -> Void
) async throws {
    var env = ["DATABASE_URL": "sqlite::memory:", "DEMO_BCRYPT_COST": "4"]
    env.merge(environment) { $1 }
    switch framework {
    case .vapor:
        try await withApp { app in
            let clock = ManualClock()
            app.defender.clock = clock
            app.logger.logLevel = .warning
            try await DemoApp.configure(app, environment: env)
            for (name, password) in users { try await DemoApp.createUser(app, name: name, password: password, admin: false) }
            try await test(Demo(side: .vapor(app, clock)))
        }
    case .hummingbird:
        try await withServedHummingbird(env, users: users.map { ($0.0, $0.1, false) }) { demo, site in
            try await test(Demo(side: .hummingbird(demo, site)))
        }
    }
}

/// One running demo: requests, and the few things a test reads or changes behind its routes (the engine, the
/// database, the audit log, users).
struct Demo {
    enum Side {
        case vapor(Application, ManualClock)
        case hummingbird(HummingbirdDemo, Site)
    }

    let side: Side

    var framework: DemoFramework {
        switch side {
        case .vapor: .vapor
        case .hummingbird: .hummingbird
        }
    }

    /// The Vapor application, for the tests of what only the Vapor integration offers.
    var app: Application {
        guard case .vapor(let app, _) = side else { preconditionFailure("a Vapor-only test ran against \(framework)") }
        return app
    }

    /// The Vapor demo's manual clock (the Hummingbird demo runs on the real one).
    var clock: ManualClock {
        guard case .vapor(_, let clock) = side else { preconditionFailure("the manual clock is the Vapor demo's only") }
        return clock
    }

    func engine() throws -> Defender {
        switch side {
        case .vapor(let app, _): try app.defender.engine()
        case .hummingbird(let demo, _): demo.defender.engine
        }
    }

    func runtime() throws -> DefenderRuntime {
        switch side {
        case .vapor(let app, _): try app.defender.runtime()
        case .hummingbird(let demo, _): demo.defender.runtime
        }
    }

    func operations() throws -> DefenderOperations {
        switch side {
        case .vapor(let app, _): try app.defender.operations()
        case .hummingbird(let demo, _): demo.defender.runtime.operations()
        }
    }

    var events: DefenderEventBus { get throws { try engine().events } }

    var database: any Database {
        switch side {
        case .vapor(let app, _): app.db
        case .hummingbird(let demo, _): demo.database
        }
    }

    /// Writes what the audit log has queued; it goes on running.
    func flushAuditLog() async {
        switch side {
        case .vapor(let app, _): await (app.defender.accessLog as? FluentAccessLog)?.flush()
        case .hummingbird(let demo, _): await (demo.defender.runtime.accessLogService as? FluentAccessLog)?.flush()
        }
    }

    func createUser(_ name: String, _ password: String, admin: Bool = false, email: String? = nil) async throws {
        switch side {
        case .vapor(let app, _): try await DemoApp.createUser(app, name: name, password: password, admin: admin, email: email)
        case .hummingbird(let demo, _): try await demo.createUser(name: name, password: password, admin: admin, email: email)
        }
    }

    /// Whom the (pretend) password-reset e-mails went to.
    var passwordResetRecipients: [String] {
        get async {
            switch side {
            case .vapor(let app, _): await app.passwordResetOutbox.recipients
            case .hummingbird(let demo, _): await demo.outbox.recipients
            }
        }
    }

    /// POSTs the login form; `forwardedFor` sets `X-Forwarded-For`.
    @discardableResult
    func login(_ username: String?, _ password: String?, forwardedFor: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> DemoResponse {
        var parts: [String] = []
        if let username { parts.append("username=" + formEncode(username)) }
        if let password { parts.append("password=" + formEncode(password)) }
        return try await post("/login", body: parts.joined(separator: "&"), contentType: "application/x-www-form-urlencoded", forwardedFor: forwardedFor, headers: extra)
    }

    /// POSTs a JSON login.
    @discardableResult
    func apiLogin(_ username: String, _ password: String, forwardedFor: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> DemoResponse {
        let json = "{\"username\": \"\(username)\", \"password\": \"\(password)\"}"
        return try await post("/api/login", body: json, contentType: "application/json", forwardedFor: forwardedFor, headers: extra)
    }

    func post(_ path: String, body: String, contentType: String, forwardedFor: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> DemoResponse {
        try await send(.POST, path, body: ByteBuffer(string: body), contentType: contentType, forwardedFor: forwardedFor, headers: extra)
    }

    func send(_ method: HTTPMethod, _ path: String, body: ByteBuffer? = nil, contentType: String? = nil, forwardedFor: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> DemoResponse {
        var headers = extra
        if let contentType { headers.replaceOrAdd(name: .contentType, value: contentType) }
        if let forwardedFor { headers.replaceOrAdd(name: "X-Forwarded-For", value: forwardedFor) }
        switch side {
        case .vapor(let app, _):
            let response = try await app.testing().sendRequest(method, path, headers: headers, body: body)
            return DemoResponse(status: response.status, headers: response.headers, body: response.body)
        case .hummingbird(_, let site):
            let (response, bytes) = try await site.exchange(method, path, headers: headers, body: body)
            return DemoResponse(status: response.status, headers: response.headers, body: bytes)
        }
    }

    func formEncode(_ text: String) -> String { Probe.encode(text) }
}
