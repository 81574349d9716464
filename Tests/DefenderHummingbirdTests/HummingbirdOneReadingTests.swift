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

/// The one-reading rule through Hummingbird, searched for counterexamples with the generator of the Vapor suite
/// (JSON, forms and multipart with duplicate keys, escapes, nesting, invalid bytes, every media-type spelling):
/// the username Defender counts is the one the handler checks — through the middleware (the handler decoding the
/// body itself with the context's decoder), the credentials wrapper and HTTP Basic — or the request is counted
/// per IP and checks nobody.
@Suite struct HummingbirdOneReadingTests {
    struct Credentials: Decodable, Sendable {
        var username: String?
        var password: String?
    }

    struct User: PasswordAuthenticatable { let name: String; let passwordHash: String? }

    final class Recorder: AccessAttemptLog, @unchecked Sendable {
        let rows = Mutex<[AccessAttemptRecord]>([])
        func record(_ attempt: AccessAttemptRecord) async { rows.withLock { $0.append(attempt) } }
        var count: Int { rows.withLock { $0.count } }
        func since(_ start: Int) -> [String?] { rows.withLock { $0[start...].map(\.username) } }
    }

    /// What the last request's handler read: `.none` when it did not run.
    final class Seen: Sendable {
        let value = Mutex<String??>(.none)
        func set(_ name: String?) { value.withLock { $0 = .some(name) } }
        func take() -> String?? { value.withLock { let seen = $0; $0 = .none; return seen } }
    }

    static var caseCount: Int { ProcessInfo.processInfo.environment["DEFENDER_TEST_DIFFERENTIAL_CASES"].flatMap(Int.init) ?? 2000 }

    func withRoutes(_ test: @escaping @Sendable (any TestClientProtocol, Recorder, Seen) async throws -> Void) async throws {
        let recorder = Recorder()
        let seen = Seen()
        var config = DefenderConfiguration()
        // No lockouts: every request must reach the rule under test.
        config.loginFailureLimit = 1_000_000
        config.loginFailureLimitIP = 1_000_000
        config.loginFailureLimitUsername = 1_000_000
        let defender = try HummingbirdDefender(configuration: config, accessLog: recorder)
        let router = Router(context: BasicAuthDefenderContext<User>.self)
        let middleware = router.group().add(middleware: DefenderLoginMiddleware(defender, paths: ["/middleware"], outcome: .status(.unauthorized)))
        middleware.post("middleware") { request, context -> Response in
            seen.set((try? await request.decode(as: Credentials.self, context: context))?.username)
            return Response(status: .unauthorized)
        }
        router.post("credentials") { request, context in
            try await defender.watchLogin(Credentials.self, username: \.username, request: request, context: context, outcome: .status(.unauthorized)) { credentials in
                seen.set(credentials.username)
                return Response(status: .unauthorized)
            }
        }
        router.group("basic")
            .add(middleware: DefenderBasicAuthenticator(defender) { username, _, _ in
                seen.set(username)
                return nil
            })
            .get { _, _ in "never" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await test(client, recorder, seen) }
    }

    /// The audit log keeps the name as submitted, cut to 255 characters: compare what it can show.
    static func key(_ name: String?) -> String? { name.flatMap { DefenderKey.normalizeUsername(AccessAttemptRecord.storable($0.truncated(toUTF8Bytes: 255))) } }

    @Test func bodiesNeverCountOneNameAndCheckAnother() async throws {
        try await withRoutes { client, recorder, seen in
            var random = SplitMix64(seed: 0x5EED_0011)
            var checked = 0
            var unreadable = 0
            for index in 0..<Self.caseCount {
                let (contentType, body) = BodyGenerator.request(using: &random)
                let path = index.isMultiple(of: 2) ? "/middleware" : "/credentials"
                var headers = HTTPFields()
                if let contentType { headers[.contentType] = contentType }
                let before = recorder.count
                let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
                let counted = recorder.since(before)
                let label = "case \(index) \(path) \(contentType ?? "-") \(String(decoding: body.prefix(200), as: UTF8.self).debugDescription)"
                #expect(response.status.code < 500, "\(label): \(response.status)")
                #expect(counted.count <= 1, "\(label): counted \(counted.count) times")
                guard let handler = seen.take() else {
                    // The handler never ran: nobody was checked. Only the credentials route may skip it.
                    unreadable += 1
                    #expect(counted.allSatisfy { $0 == nil }, "\(label): refused but counted under \(counted)")
                    #expect(path == "/credentials", "\(label): the handler was skipped")
                    continue
                }
                checked += 1
                #expect(counted.count == 1, "\(label): checked but not counted")
                if Self.key(handler) != nil {
                    #expect(Self.key(counted.first ?? nil) == Self.key(handler), "\(label): Defender counted \(String(describing: counted.first)), the handler checked \(String(describing: handler))")
                }
            }
            // The generator must reach both sides of the rule, or the test proves nothing.
            #expect(checked > Self.caseCount / 4 && unreadable > Self.caseCount / 50, "checked \(checked), unreadable \(unreadable)")
        }
    }

    @Test func basicHeadersNeverCountOneNameAndCheckAnother() async throws {
        try await withRoutes { client, recorder, seen in
            var random = SplitMix64(seed: 0x5EED_0012)
            var verified = 0
            for index in 0..<Self.caseCount {
                let values = BodyGenerator.authorization(using: &random)
                var headers = HTTPFields()
                for value in values { headers.append(HTTPField(name: .authorization, value: value)) }
                let before = recorder.count
                let response = try await client.execute(uri: "/basic", method: .get, headers: headers)
                let counted = recorder.since(before)
                let label = "case \(index) \(values.map(\.debugDescription))"
                #expect(response.status.code < 500 && response.status != .ok, "\(label): \(response.status)")
                guard let handler = seen.take() else {
                    #expect(counted.count <= 1, "\(label)")
                    continue
                }
                verified += 1
                #expect(counted.count == 1 && counted.first == handler.map { AccessAttemptRecord.storable($0.truncated(toUTF8Bytes: 255)) }, "\(label): counted \(counted), verified \(String(describing: handler))")
            }
            #expect(verified > Self.caseCount / 4, "verified \(verified)")
        }
    }
}
