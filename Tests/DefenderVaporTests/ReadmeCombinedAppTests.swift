import DefenderRedis
import DefenderTesting
import DefenderVapor
import Foundation
import Testing
import Vapor
import VaporTesting

/// What a newcomer builds from the README: the quick start's form login, the JSON login, the Basic API, password
/// reset and the events handler, in one app, configured from the environment (on Redis, added as the quick start
/// says), served over HTTP. Each route counts the usernames of its own requests, a lock earned on one holds on
/// the others, and the store in use is Redis.
@Suite struct ReadmeCombinedAppTests {
    @Test func theSnippetsCombinedWorkTogetherOnRedis() async throws {
        guard let url = await SharedRedis.url else { return }
        let firewall = Firewall()
        let environment = [
            "DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": url, "DEFENDER_CACHE_PREFIX": "readme-\(UUID().uuidString)",
            "DEFENDER_BEHIND_REVERSE_PROXY": "true",
        ]
        try await withApp(configure: { app in
            app.logger.logLevel = .error
            try await prepareUsers(app)
            try await configure(app)  // the quick start
            // A deployment's environment, and the store factory the quick start's comment names for `redis`.
            app.defender.configuration = try .fromEnvironment(environment)
            app.defender.use(.automatic(RedisStoreFactory()))
            jsonLogin(app)
            basicAuthentication(app)
            passwordReset(app)
            watchEvents(app, firewall: firewall)
        }) { (app) async throws in
            let tester = try app.testing(method: .running(port: 0))
            func form(_ username: String, _ password: String, from ip: String) async throws -> HTTPStatus {
                try await tester.sendRequest(
                    .POST, "/login", headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": ip],
                    body: ByteBuffer(string: "username=\(username)&password=\(password)")
                ).status
            }
            func json(_ username: String, _ password: String, from ip: String) async throws -> HTTPStatus {
                try await tester.sendRequest(
                    .POST, "/api/login", headers: ["Content-Type": "application/json", "X-Forwarded-For": ip],
                    body: ByteBuffer(string: #"{"username":"\#(username)","password":"\#(password)"}"#)
                ).status
            }
            func basic(_ username: String, _ password: String, from ip: String) async throws -> HTTPStatus {
                let credentials = Data("\(username):\(password)".utf8).base64EncodedString()
                return try await tester.sendRequest(.GET, "/api/me", headers: ["Authorization": "Basic \(credentials)", "X-Forwarded-For": ip]).status
            }
            // Vapor's testing client follows the redirect to `/`, which this app does not serve: a 404, not a 401.
            let signedIn = try await form("alice", "secret", from: "192.0.2.1")
            #expect(signedIn == .notFound, "\(signedIn)")
            #expect(try await json("alice", "secret", from: "192.0.2.1") == .ok)
            #expect(try await basic("alice", "secret", from: "192.0.2.1") == .ok)

            // Each route names its own user, from its own kind of request, and from its own address.
            for (attempt, ip) in [(form, "203.0.113.1"), (json, "203.0.113.2"), (basic, "203.0.113.3")].enumerated() {
                let user = ["carol", "dave", "erin"][attempt]
                for _ in 0..<3 { #expect(try await ip.0(user, "wrong", ip.1) == .unauthorized, "\(user)") }
                #expect(try await ip.0(user, "wrong", ip.1) == .forbidden, "\(user)")
            }
            let engine = try app.defender.engine()
            #expect(try await engine.allBlocks(of: .username).map(\.key.value).sorted() == ["carol", "dave", "erin"])
            #expect((engine.store as? FallbackAttemptStore)?.primary is RedisAttemptStore)

            // A lock earned on one route holds on the others (alice: four failures on the form, other addresses).
            for index in 1...4 { _ = try await form("alice", "wrong", from: "198.51.100.\(index)") }
            #expect(try await json("alice", "secret", from: "198.51.100.20") == .forbidden)
            #expect(try await basic("alice", "secret", from: "198.51.100.21") == .forbidden)

            // The events handler saw the address blocks.
            var dropped: Set<String> = []
            for _ in 0..<300 where dropped.count < 3 {
                dropped = await firewall.dropped
                if dropped.count < 3 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(dropped.isSuperset(of: ["203.0.113.1", "203.0.113.2", "203.0.113.3"]), "\(dropped)")
        }
    }
}
