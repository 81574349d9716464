// The README's Hummingbird quick start, compiled and run here (the README quotes it word for word: checked by
// ReadmeEntryPointsTests.readmeQuotesEveryExample).
// README: hummingbird
import DefenderHummingbird
import Hummingbird
import HummingbirdBasicAuth

struct LoginForm: Decodable, Sendable {
    var username: String
    var password: String
}

/// The users and their bcrypt hashes (a database table in a real app).
struct Users: Sendable {
    let hashes: [String: String]

    /// bcrypt runs off the event loop (hummingbird-auth's verifier uses NIO's thread pool).
    func check(_ username: String, _ password: String) async throws -> Bool {
        guard let hash = hashes[username] else { return false }
        return try await BcryptPasswordVerifier().verifyPassword(password, createsHash: hash)
    }
}

func buildApplication(users: Users) throws -> some ApplicationProtocol {
    // DEFENDER_* from the environment; pass stores: [RedisStoreFactory()] (DefenderRedis) for DEFENDER_STORE=redis.
    let defender = try HummingbirdDefender(configuration: .fromEnvironment())
    let router = Router(context: BasicDefenderRequestContext.self)
    router.post("login") { request, context in
        // One reading: Defender decodes the form once; this username is both counted and checked.
        try await defender.watchLogin(LoginForm.self, username: \.username, request: request, context: context) { form in
            guard try await users.check(form.username, form.password) else { return Response(status: .unauthorized) }
            return Response(status: .seeOther, headers: [.location: "/"])
        }
    }
    var app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
    app.addServices(defender.services)  // event delivery, deny-list reloads, the store's connections
    return app
}
// END README

import HummingbirdBcrypt
import HummingbirdTesting
import HTTPTypes
import NIOCore
import Testing

@Suite struct ReadmeHummingbirdTests {
    @Test func quickStartProtectsTheLogin() async throws {
        let app = try buildApplication(users: Users(hashes: ["alice": Bcrypt.hash("secret", cost: 4)]))
        try await app.test(.live) { (client) async throws in
            @Sendable func login(_ password: String) async throws -> HTTPResponse.Status {
                try await client.execute(
                    uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
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
