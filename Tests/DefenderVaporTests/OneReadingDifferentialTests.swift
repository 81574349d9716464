import DefenderHTTP
import DefenderTesting
import DefenderVapor
import Foundation
import NIOCore
import Synchronization
import Testing
import Vapor
import VaporTesting

/// The one-reading rule, searched for counterexamples: for thousands of generated request shapes (JSON, forms and
/// multipart with duplicate keys and fields, escapes, percent-encoded names, nesting, numbers and nulls, invalid
/// bytes, every media-type spelling), the username Defender counts is the username the application's own decoder
/// yields — the one whose password the handler checks — or the request is counted per IP and checks nobody.
///
/// Fixed seed; `DEFENDER_TEST_DIFFERENTIAL_CASES` runs more (e.g. 200000) on demand.
@Suite struct OneReadingDifferentialTests {
    struct Credentials: Content {
        var username: String?
        var password: String?
    }

    /// What the last request's handler read: `.none` when it did not run.
    final class Seen: Sendable {
        let value = Mutex<String??>(.none)
        func withLock<T>(_ body: (inout String??) -> T) -> T { value.withLock { body(&$0) } }
    }

    final class Recorder: AccessAttemptLog, @unchecked Sendable {
        let rows = Mutex<[AccessAttemptRecord]>([])
        func record(_ attempt: AccessAttemptRecord) async { rows.withLock { $0.append(attempt) } }
        var count: Int { rows.withLock { $0.count } }
        func since(_ start: Int) -> [AccessAttemptRecord] { rows.withLock { Array($0[start...]) } }
    }

    static var caseCount: Int { ProcessInfo.processInfo.environment["DEFENDER_TEST_DIFFERENTIAL_CASES"].flatMap(Int.init) ?? 3000 }

    /// The app under test: the three ways a route can be protected, each with a handler that reports what it read.
    func withRoutes(_ test: (Application, Recorder, Seen) async throws -> Void) async throws {
        let recorder = Recorder()
        let seen = Seen()
        try await withApp { (app) async throws in
            var config = DefenderConfiguration()
            // No lockouts: every request must reach the rule under test.
            config.loginFailureLimit = 1_000_000
            config.loginFailureLimitIP = 1_000_000
            config.loginFailureLimitUsername = 1_000_000
            app.defender.configuration = config
            app.defender.accessLog = recorder
            app.logger.logLevel = .critical
            app.middleware.use(DefenderLoginMiddleware(paths: ["/middleware"], outcome: .status(.unauthorized)))
            // The recommended pattern: Defender decodes, the handler checks what it was handed.
            app.post("credentials") { req async throws -> Response in
                try await req.defender.watchLogin(Credentials.self, username: \.username, outcome: .status(.unauthorized)) { credentials in
                    seen.withLock { $0 = .some(credentials.username) }
                    return Response(status: .unauthorized)
                }
            }
            // A handler that decodes the body itself, with the app's decoder, next to Defender's reading.
            app.post("plain") { req async throws -> Response in
                try await req.defender.watchLogin(outcome: .status(.unauthorized)) { _ in
                    seen.withLock { $0 = .some((try? req.content.decode(Credentials.self))?.username) }
                    return Response(status: .unauthorized)
                }
            }
            app.post("middleware") { req async throws -> Response in
                seen.withLock { $0 = .some((try? req.content.decode(Credentials.self))?.username) }
                return Response(status: .unauthorized)
            }
            // HTTP Basic: the verifier is handed the username Defender counted.
            app.grouped(DefenderBasicAuthenticator { username, _, req in
                seen.withLock { $0 = .some(username) }
                #expect(req.headers.basicAuthorization?.username == username, "Vapor's Basic parser reads another name")
                return false
            }).get("basic") { _ in "never" }
            try await test(app, recorder, seen)
        }
    }

    @Test func bodiesNeverCountOneNameAndCheckAnother() async throws {
        var random = SplitMix64(seed: 0x5EED_0001)
        try await withRoutes { app, recorder, seen in
            var checked = 0
            var unreadable = 0
            for index in 0..<Self.caseCount {
                let (contentType, body) = BodyGenerator.request(using: &random)
                // The middleware is reached by every spelling the router accepts.
                let path = ["credentials", "plain", ["middleware", "middleware/", "middleware//", "/middleware"][index / 3 % 4]][index % 3]
                var headers = HTTPHeaders()
                if let contentType { headers.replaceOrAdd(name: .contentType, value: contentType) }
                seen.withLock { $0 = .none }
                let before = recorder.count
                let response = try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(bytes: body))
                let counted = recorder.since(before).map(\.username)
                let handler = seen.withLock { $0 }
                let label = "case \(index) \(path) \(contentType ?? "-") \(String(decoding: body.prefix(200), as: UTF8.self).debugDescription)"
                #expect(response.status.code < 500, "\(label): \(response.status)")
                #expect(counted.count <= 1, "\(label): counted \(counted.count) times")
                guard let handler else {
                    // The handler never ran: nobody was checked. Only a request with no readable username may end so.
                    unreadable += 1
                    #expect(counted.allSatisfy { $0 == nil }, "\(label): refused but counted under \(counted)")
                    #expect(path == "credentials", "\(label): the handler was skipped")
                    let decoded = try Self.appDecode(app, contentType: contentType, body: body)
                    #expect(decoded == nil, "\(label): the app's decoder reads \(String(describing: decoded)) but the request was refused")
                    continue
                }
                checked += 1
                // The audit log keeps the name as submitted, cut to 255 characters: compare what it can show.
                let key = { (name: String?) in name.flatMap { DefenderKey.normalizeUsername(AccessAttemptRecord.storable($0.truncated(toUTF8Bytes: 255))) } }
                #expect(counted.count == 1, "\(label): checked but not counted")
                // A handler that read no username checks nobody, whatever was counted; one that read a name must
                // have had exactly that name counted.
                if key(handler) != nil {
                    #expect(key(counted.first ?? nil) == key(handler), "\(label): Defender counted \(String(describing: counted.first)), the handler checked \(String(describing: handler))")
                }
                let decoded = try Self.appDecode(app, contentType: contentType, body: body)
                #expect(key(decoded?.username) == key(handler), "\(label): the app's decoder reads \(String(describing: decoded?.username))")
            }
            // The generator must reach both sides of the rule, or the test proves nothing.
            #expect(checked > Self.caseCount / 4 && unreadable > Self.caseCount / 50, "checked \(checked), unreadable \(unreadable)")
        }
    }

    @Test func basicHeadersNeverCountOneNameAndCheckAnother() async throws {
        var random = SplitMix64(seed: 0x5EED_0002)
        try await withRoutes { app, recorder, seen in
            var verified = 0
            for index in 0..<Self.caseCount {
                let values = BodyGenerator.authorization(using: &random)
                var headers = HTTPHeaders()
                for value in values { headers.add(name: .authorization, value: value) }
                seen.withLock { $0 = .none }
                let before = recorder.count
                let response = try await app.testing().sendRequest(.GET, "basic", headers: headers)
                let counted = recorder.since(before).map(\.username)
                let label = "case \(index) \(values.map(\.debugDescription))"
                #expect(response.status.code < 500 && response.status != .ok, "\(label): \(response.status)")
                guard let handler = seen.withLock({ $0 }) else {
                    #expect(counted.count <= 1, "\(label)")
                    continue
                }
                verified += 1
                #expect(counted.count == 1 && counted.first == handler.map { AccessAttemptRecord.storable($0.truncated(toUTF8Bytes: 255)) }, "\(label): counted \(counted), verified \(String(describing: handler))")
            }
            #expect(verified > Self.caseCount / 4, "verified \(verified)")
        }
    }

    /// A route handed credentials counts every method: a `GET` (or `HEAD`) with a body is checked and counted too.
    @Test func everyMethodOfACredentialsRouteCounts() async throws {
        try await withApp { (app) async throws in
            app.defender.configuration = DefenderConfiguration()
            app.logger.logLevel = .critical
            for method in [HTTPMethod.GET, .PUT, .PATCH, .POST] {
                app.on(method, "creds") { req async throws -> Response in
                    try await req.defender.watchLogin(Credentials.self, username: \.username, outcome: .status(.unauthorized)) { _ in
                        Response(status: .unauthorized)
                    }
                }
            }
            let body = ByteBuffer(string: "username=carol&password=x")
            let headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded"]
            for method in [HTTPMethod.GET, .PUT, .PATCH] {
                #expect(try await app.testing().sendRequest(method, "creds", headers: headers, body: body).status == .unauthorized)
            }
            #expect(try await app.testing().sendRequest(.GET, "creds", headers: headers, body: body).status == .forbidden)
            #expect(try await app.defender.engine().store.state(of: app.defender.engine().usernameKey("carol")).failures == 4)
        }
    }

    /// The application's own reading of a body: `req.content.decode` with the decoder Vapor picks for the media type.
    static func appDecode(_ app: Application, contentType: String?, body: [UInt8]) throws -> Credentials? {
        var headers = HTTPHeaders()
        if let contentType {
            guard let canonical = canonical(contentType) else { return nil }
            headers.replaceOrAdd(name: .contentType, value: canonical)
        }
        // An empty body is no body, as Vapor's server hands it to the app.
        let request = Request(
            application: app, method: .POST, url: "/", headers: headers, collectedBody: body.isEmpty ? nil : ByteBuffer(bytes: body),
            on: app.eventLoopGroup.any())
        return try? request.content.decode(Credentials.self)
    }

    /// A `Content-Type` as every process must read it: type, subtype and parameter names are case-insensitive
    /// (RFC 9110 §8.3.1), so in lower case (Vapor's decoder lookup hashes them as they are, so an upper-case type
    /// found its decoder in some processes only); a wildcard or a list names no single type: `nil`, not read.
    static func canonical(_ contentType: String) -> String? {
        // A type that names no single body (a list, a wildcard, …) is not read: Defender removes the field, so the
        // app's decoder finds none either.
        guard URLEncodedForm.mediaType(contentType) != nil else { return nil }
        let parts = contentType.split(separator: ";", omittingEmptySubsequences: false)
        let type = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
        guard !type.contains("*") else { return nil }
        let parameters = parts.dropFirst().compactMap { part -> String? in
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            return name.isEmpty ? nil : name + (pair.count > 1 ? "=" + pair[1] : "")
        }
        return ([type] + parameters).joined(separator: "; ")
    }
}
