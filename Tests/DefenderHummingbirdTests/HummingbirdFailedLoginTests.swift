import DefenderHummingbird
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import NIOCore
import Testing

/// `failedLogin` under Hummingbird: problem+json for a JSON login's failures, counted like any 401.
@Suite struct HummingbirdFailedLoginTests {
    struct Credentials: Decodable, Sendable {
        var username: String
        var password: String
    }

    @Test func jsonFailuresAreProblemsAndCount() async throws {
        let defender = try HummingbirdDefender(configuration: DefenderConfiguration())
        let router = Router(context: BasicDefenderRequestContext.self)
        router.post("api/login") { request, context in
            try await defender.watchLogin(Credentials.self, username: \.username, request: request, context: context, outcome: .status(.unauthorized)) { form in
                form.password == "right" ? Response(status: .ok) : defender.failedLogin(request)
            }
        }
        var app = Application(router: router)
        app.addServices(defender.services)
        try await app.test(.router) { (client) async throws in
            for attempt in 1...4 {
                let response = try await client.execute(
                    uri: "/api/login", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"username":"alice","password":"wrong"}"#))
                #expect(response.status == (attempt < 4 ? .unauthorized : .forbidden), "attempt \(attempt)")
                #expect(response.headers[.contentType] == "application/problem+json; charset=utf-8")
                if attempt < 4 { #expect(String(buffer: response.body).contains(#""detail":"Invalid username or password.""#)) }
            }
        }
    }
}
