import AsyncHTTPClient
import DefenderDemoApp
import DefenderHummingbirdDemoApp
import DefenderTesting
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing
import Vapor

/// One request of a differential script.
struct Probe: Sendable, CustomStringConvertible {
    var method: NIOHTTP1.HTTPMethod = .GET
    var path: String
    var headers: [(String, String)] = []
    var body: String?
    /// Send the site's session cookie (from its last login) with this request.
    var withSession = false

    var description: String { "\(method) \(path) \(headers.map { "\($0.0): \($0.1.prefix(40))" }) \(body.map { String($0.prefix(60)) } ?? "")" }

    static func form(_ path: String, _ fields: [(String, String)], headers: [(String, String)] = []) -> Probe {
        Probe(method: .POST, path: path, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers,
            body: fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&"))
    }

    static func json(_ path: String, _ body: String, headers: [(String, String)] = []) -> Probe {
        Probe(method: .POST, path: path, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    static func basic(_ path: String, _ credentials: String, headers: [(String, String)] = []) -> Probe {
        Probe(path: path, headers: [("Authorization", "Basic " + Data(credentials.utf8).base64EncodedString())] + headers)
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// What a response said, with what differs between any two runs (dates, session ids, the seconds left, the admin
/// page's CSRF token) masked, and the `Server` header dropped: the only difference the contract allows.
struct Answer: Equatable, CustomStringConvertible {
    var status: UInt
    var headers: [String]
    var body: String

    init(_ response: HTTPClientResponse, body bytes: ByteBuffer, sessionCookie: String) {
        status = response.status.code
        var headers: [String] = []
        for (name, value) in response.headers {
            let name = name.lowercased()
            switch name {
            case "date", "server", "connection", "keep-alive": continue
            case "set-cookie": headers.append("set-cookie: " + Self.cookieShape(value))
            // Counted down by the second: the two sites may be a second apart.
            case "retry-after": headers.append("retry-after: \(Int(value).map { _ in "N" } ?? value)")
            // The seconds to the window's end, counted down like Retry-After; the quotas and policy are compared.
            case "ratelimit":
                headers.append("ratelimit: " + value.replacingOccurrences(of: #";t=\d+"#, with: ";t=N", options: .regularExpression))
            case "content-length": continue  // the body is compared
            default: headers.append("\(name): \(value)")
            }
        }
        self.headers = headers.sorted()
        var text = String(buffer: bytes)
        text = text.replacingOccurrences(of: #"[0-9a-f]{64}"#, with: "<token>", options: .regularExpression)
        text = text.replacingOccurrences(of: #"\b\d+ seconds"#, with: "N seconds", options: .regularExpression)
        text = text.replacingOccurrences(of: #""retryAfter":\d+"#, with: #""retryAfter":N"#, options: .regularExpression)
        text = text.replacingOccurrences(of: #""attempt_time":"[^"]*""#, with: #""attempt_time":T"#, options: .regularExpression)
        text = text.replacingOccurrences(of: #""secondsLeft":\s*\d+"#, with: #""secondsLeft":N"#, options: .regularExpression)
        body = text
    }

    /// A cookie's name and attributes, without its value and expiry.
    static func cookieShape(_ cookie: String) -> String {
        let parts = cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let name = parts.first?.split(separator: "=").first.map(String.init) ?? ""
        let attributes = parts.dropFirst().map { $0.split(separator: "=").first.map { String($0).lowercased() } ?? "" }
            .filter { !["expires", "max-age"].contains($0) }
        let value = parts.first?.split(separator: "=", maxSplits: 1).dropFirst().first ?? ""
        return ([name + (value.isEmpty ? "=(empty)" : "=…")] + attributes.sorted()).joined(separator: "; ")
    }

    var description: String { "\(status)\n  " + headers.joined(separator: "\n  ") + "\n  " + body.prefix(600) }
}

/// A demo site served on a free loopback port, with the session cookie of its last login.
final class Site: @unchecked Sendable {
    let name: String
    let base: String
    var session: String?
    let client: HTTPClient

    init(name: String, port: Int, client: HTTPClient) {
        self.name = name
        self.base = "http://127.0.0.1:\(port)"
        self.client = client
    }

    func send(_ probe: Probe) async throws -> Answer {
        var headers = HTTPHeaders(probe.headers)
        if probe.withSession, let session { headers.add(name: "Cookie", value: "\(DemoSessionCookie.name)=\(session)") }
        let (response, bytes) = try await exchange(probe.method, probe.path, headers: headers, body: probe.body.map { ByteBuffer(string: $0) })
        for cookie in response.headers["set-cookie"] where cookie.hasPrefix(DemoSessionCookie.name + "=") {
            let value = cookie.dropFirst(DemoSessionCookie.name.count + 1).prefix { $0 != ";" }
            session = value.isEmpty ? nil : String(value)
        }
        return Answer(response, body: bytes, sessionCookie: DemoSessionCookie.name)
    }

    /// One request, as it is: the answer's head and whole body.
    func exchange(_ method: NIOHTTP1.HTTPMethod, _ path: String, headers: HTTPHeaders, body: ByteBuffer?) async throws -> (HTTPClientResponse, ByteBuffer) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers = headers
        if let body { request.body = .bytes(body) }
        let response = try await client.execute(request, timeout: .seconds(30))
        return (response, try await response.body.collect(upTo: 1 << 22))
    }
}

enum DemoSessionCookie { static let name = "defender-demo-session" }

/// Runs `test` against the Vapor and the Hummingbird demo, each on its own in-memory database with the same
/// environment and users (`hummingbirdOnly` for the Hummingbird demo alone, such as its own database), served on
/// free loopback ports.
func withBothDemos(
    _ environment: [String: String] = [:], hummingbirdOnly: [String: String] = [:],
    users: [(String, String, Bool)] = [("alice", "secret1", false), ("root", "rootpw1", true)], _ test: (Site, Site) async throws -> Void
) async throws {
    var env = ["DATABASE_URL": "sqlite::memory:", "DEMO_BCRYPT_COST": "4"]
    env.merge(environment) { $1 }
    let vapor = try await Application.make(.testing)
    vapor.logger.logLevel = .error
    do {
        try await DemoApp.configure(vapor, environment: env)
        for (name, password, admin) in users { try await DemoApp.createUser(vapor, name: name, password: password, admin: admin) }
        // Booted as `serve` boots it, so that Defender's services run (event delivery, the block cache's listener,
        // the Redis client's failover watch): without it the Vapor side ran with none of them.
        try await vapor.asyncBoot()
        try await vapor.server.start(address: .hostname("127.0.0.1", port: 0))
        let vaporPort = try #require(vapor.http.server.shared.localAddress?.port)
        try await withServedHummingbird(env.merging(hummingbirdOnly) { $1 }, users: users) { _, site in
            try await test(Site(name: "vapor", port: vaporPort, client: site.client), site)
        }
    } catch {
        await vapor.server.shutdown()
        try? await vapor.asyncShutdown()
        throw error
    }
    await vapor.server.shutdown()
    try await vapor.asyncShutdown()
}

/// Runs `test` against the Hummingbird demo served on a free loopback port, on an in-memory database (unless
/// `environment` names another) with cheap bcrypt.
func withServedHummingbird(
    _ environment: [String: String] = [:], users: [(String, String, Bool)] = [("alice", "secret1", false), ("root", "rootpw1", true)],
    _ test: (HummingbirdDemo, Site) async throws -> Void
) async throws {
    var env = ["DATABASE_URL": "sqlite::memory:", "DEMO_BCRYPT_COST": "4"]
    env.merge(environment) { $1 }
    var logger = Logger(label: "defender-demo-hummingbird")
    logger.logLevel = .error
    let demo = try await HummingbirdDemo.make(environment: env, logger: logger)
    do {
        for (name, password, admin) in users { try await demo.createUser(name: name, password: password, admin: admin) }
    } catch {
        await demo.shutdown()
        throw error
    }
    var configuration = HTTPClient.Configuration()
    configuration.redirectConfiguration = .disallow
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 128
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    // The application's services close the database when it stops.
    let app = demo.application(hostname: "127.0.0.1", port: 0) { channel in
        portContinuation.yield(channel.localAddress?.port ?? 0)
    }
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var failure: (any Error)?
        do {
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await test(demo, Site(name: "hummingbird", port: port, client: client))
        } catch {
            failure = error
        }
        await group.triggerGracefulShutdown()
        try? await tasks.waitForAll()
        try? await client.shutdown()
        if let failure { throw failure }
    }
}

/// Sends each probe to both sites in turn and expects the same answer from each.
func expectSameAnswers(_ probes: [Probe], _ vapor: Site, _ hummingbird: Site, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for probe in probes {
        let a = try await vapor.send(probe)
        let b = try await hummingbird.send(probe)
        #expect(a == b, "\(probe)\n vapor: \(a)\n hummingbird: \(b)", sourceLocation: sourceLocation)
    }
}
