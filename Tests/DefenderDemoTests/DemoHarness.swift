import DefenderDemoApp
import DefenderTesting
import DefenderVapor
import NIOCore
import Testing
import Vapor
import VaporTesting

/// Runs a test against the demo on an in-memory database, with a manual clock and cheap bcrypt.
func withDemo(
    _ environment: [String: String] = [:], users: [(String, String)] = [("alice", "secret1")],
    _ test: (Demo) async throws -> Void
) async throws {
    try await withApp { app in
        let clock = ManualClock()
        app.defender.clock = clock
        app.logger.logLevel = .warning
        var env = ["DATABASE_URL": "sqlite::memory:", "DEMO_BCRYPT_COST": "4"]
        env.merge(environment) { $1 }
        try await DemoApp.configure(app, environment: env)
        for (name, password) in users { try await DemoApp.createUser(app, name: name, password: password, admin: false) }
        try await test(Demo(app: app, clock: clock))
    }
}

struct Demo {
    let app: Application
    let clock: ManualClock

    /// POSTs the login form; `forwardedFor` sets `X-Forwarded-For`.
    @discardableResult
    func login(_ username: String?, _ password: String?, forwardedFor: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var parts: [String] = []
        if let username { parts.append("username=" + formEncode(username)) }
        if let password { parts.append("password=" + formEncode(password)) }
        return try await post("/login", body: parts.joined(separator: "&"), contentType: "application/x-www-form-urlencoded", forwardedFor: forwardedFor, headers: extra)
    }

    /// POSTs a JSON login.
    @discardableResult
    func apiLogin(_ username: String, _ password: String, forwardedFor: String? = nil) async throws -> TestingHTTPResponse {
        let json = "{\"username\": \"\(username)\", \"password\": \"\(password)\"}"
        return try await post("/api/login", body: json, contentType: "application/json", forwardedFor: forwardedFor)
    }

    func post(_ path: String, body: String, contentType: String, forwardedFor: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        try await send(.POST, path, body: ByteBuffer(string: body), contentType: contentType, forwardedFor: forwardedFor, headers: extra)
    }

    func send(_ method: HTTPMethod, _ path: String, body: ByteBuffer? = nil, contentType: String? = nil, forwardedFor: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var headers = extra
        if let contentType { headers.replaceOrAdd(name: .contentType, value: contentType) }
        if let forwardedFor { headers.replaceOrAdd(name: "X-Forwarded-For", value: forwardedFor) }
        return try await app.testing().sendRequest(method, path, headers: headers, body: body)
    }

    func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

extension TestingHTTPResponse {
    var text: String { String(buffer: body) }
    var retryAfter: String? { headers.first(name: .retryAfter) }
}
