@testable import DefenderDemoApp
import DefenderTesting
import DefenderVapor
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

/// The outside review's findings, through the demo over HTTP: a locked account cannot be reached by choosing the
/// request's shape, a session id held before login never becomes a logged-in session, and the admin's JSON shows
/// `null` rather than leaving fields out.
@Suite struct DemoSecurityReviewTests {
    /// Each shape names alice to Vapor's decoders in a way the old byte scan and JSONSerialization did not (or named
    /// someone else), and carries her right password.
    static let shapes: [(label: String, contentType: String, body: String)] = [
        ("multipart", "multipart/form-data; boundary=B",
         "--B\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--B\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nsecret1\r\n--B--\r\n"),
        ("percent-encoded field name", "application/x-www-form-urlencoded", "user%6Eame=alice&password=secret1"),
        ("duplicate form field", "application/x-www-form-urlencoded", "username=nobody&username=alice&password=secret1"),
        ("JSON with a vendor media type", "application/vnd.api+json", #"{"username":"alice","password":"secret1"}"#),
        ("JSON media type in capitals", "APPLICATION/JSON; charset=UTF-8", #"{"username":"alice","password":"secret1"}"#),
        ("JSON with a key spelled by escapes", "application/json", #"{"user\u006eame":"alice","password":"secret1"}"#),
        ("duplicate JSON keys", "application/json", #"{"username":"nobody","username":"alice","password":"secret1"}"#),
        ("JSON whose username is spaced and capitalised", "application/json", #"{"username":"  ALICE ","password":"secret1"}"#),
    ]

    @Test(arguments: ["/login", "/api/login"]) func lockedAccountCannotBeReachedByAnotherShape(_ path: String) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { (demo) async throws in
            // Lock alice by username from four addresses (no IP lockout), with plain form logins.
            for index in 0..<4 { _ = try await demo.login("alice", "wrong", forwardedFor: "198.51.100.\(index)") }
            #expect(try await demo.login("alice", "secret1", forwardedFor: "198.51.100.9").status == .forbidden)
            let naming = try Self.shapes.filter { try Self.appReads(demo.app, $0) == "alice" }.map(\.label)
            #expect(naming.count >= 5, "only \(naming) name alice: the test would prove little")
            for (number, shape) in Self.shapes.enumerated() {
                let response = try await demo.post(path, body: shape.body, contentType: shape.contentType, forwardedFor: "203.0.113.\(number)")
                // Every shape that names alice to Vapor's decoders is refused as hers; one that names nobody or
                // someone else is not her login; none logs in.
                let label = "\(shape.label) on \(path): \(response.status) \(response.text.prefix(120))"
                if try Self.appReads(demo.app, shape) == "alice" {
                    #expect(response.status == .forbidden, "\(label)")
                } else {
                    #expect([.unauthorized, .badRequest].contains(response.status), "\(label)")
                }
                #expect(response.headers.setCookie?["defender-demo-session"] == nil, "\(shape.label): a session was issued")
            }
        }
    }

    /// The username the demo's own decoder reads from a shape (`req.content.decode(LoginForm.self)`), normalised.
    /// The media type is read in lower case, as RFC 9110 reads it and Defender hands it to the decoders (Vapor's
    /// decoder lookup, given `APPLICATION/JSON` as it is, finds the JSON decoder in some processes only).
    static func appReads(_ app: Application, _ shape: (label: String, contentType: String, body: String)) throws -> String? {
        let parts = shape.contentType.split(separator: ";", maxSplits: 1)
        let contentType = parts[0].lowercased() + (parts.count > 1 ? ";" + parts[1] : "")
        let request = Request(
            application: app, method: .POST, url: "/login", headers: ["Content-Type": contentType],
            collectedBody: ByteBuffer(string: shape.body), on: app.eventLoopGroup.any())
        return (try? request.content.decode(LoginForm.self))?.username.flatMap(DefenderKey.normalizeUsername)
    }

    /// Guessing alice's password from many addresses with shapes the old reader missed still counts against alice.
    @Test(arguments: DemoFramework.allCases) func guessesInAnyShapeCountForTheAccount(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            for (number, shape) in Self.shapes.enumerated() where number < 3 {
                let body = shape.body.replacingOccurrences(of: "secret1", with: "guess\(number)")
                let status = try await demo.post("/api/login", body: body, contentType: shape.contentType, forwardedFor: "203.0.113.\(number)").status
                #expect(status == .unauthorized, "\(shape.label): \(status)")
            }
            // Three failures counted against alice, whatever their shape: the fourth crosses her limit.
            #expect(try await demo.apiLogin("alice", "guess3", forwardedFor: "203.0.113.50").status == .forbidden)
        }
    }

    /// An undecodable body names nobody: counted against the IP, never checked, a 400 until the IP is locked.
    @Test(arguments: DemoFramework.allCases) func unreadableBodiesCountAgainstTheAddress(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            for _ in 0..<3 { #expect(try await demo.post("/api/login", body: "{not json", contentType: "application/json").status == .badRequest) }
            #expect(try await demo.post("/api/login", body: "{not json", contentType: "application/json").status == .forbidden)
            #expect(try await demo.apiLogin("alice", "secret1").status == .forbidden)
        }
    }

    // MARK: Sessions

    func cookie(_ response: DemoResponse) -> String? { response.headers.setCookie?["defender-demo-session"]?.string }

    /// Session fixation: an attacker obtains a session id the server accepts, or invents one, and plants it in the
    /// victim's browser; once the victim logs in with it, that id is not a logged-in session.
    @Test(arguments: DemoFramework.allCases) func loginRotatesTheSessionID(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            // An id the server issued (the attacker's own login, say), planted in the victim's browser.
            let first = try await demo.login("alice", "secret1")
            let planted = try #require(cookie(first))
            let login = try await demo.login("alice", "secret1", headers: ["Cookie": "defender-demo-session=\(planted)"])
            #expect(login.status == .found)
            let fresh = try #require(cookie(login))
            #expect(fresh != planted)
            let withPlanted = try await demo.send(.GET, "/", headers: ["Cookie": "defender-demo-session=\(planted)"])
            #expect(!withPlanted.text.contains("Logged in as"), "the pre-login session id still works")
            let withFresh = try await demo.send(.GET, "/", headers: ["Cookie": "defender-demo-session=\(fresh)"])
            #expect(withFresh.text.contains("Logged in as <strong>alice</strong>"))
            // An invented id is never adopted either.
            let invented = try await demo.login("alice", "secret1", headers: ["Cookie": "defender-demo-session=invented-by-attacker"])
            #expect(cookie(invented) != "invented-by-attacker")
            // Logout ends the session: its id no longer works.
            _ = try await demo.send(.POST, "/logout", headers: ["Cookie": "defender-demo-session=\(fresh)"])
            #expect(!(try await demo.send(.GET, "/", headers: ["Cookie": "defender-demo-session=\(fresh)"])).text.contains("Logged in as"))
        }
    }

    @Test(arguments: DemoFramework.allCases) func sessionCookieFlags(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            let plain = try #require(try await demo.login("alice", "secret1").headers.setCookie?["defender-demo-session"])
            #expect(plain.isHTTPOnly && plain.sameSite == .lax && !plain.isSecure)
            // Behind a trusted proxy that terminated TLS: Secure.
            let proxied = try await demo.login("alice", "secret1", forwardedFor: "192.0.2.7", headers: ["X-Forwarded-Proto": "https"])
            #expect(try #require(proxied.headers.setCookie?["defender-demo-session"]).isSecure)
            let forwarded = try await demo.login("alice", "secret1", headers: ["Forwarded": "for=192.0.2.7;proto=https"])
            #expect(try #require(forwarded.headers.setCookie?["defender-demo-session"]).isSecure)
        }
        // Not behind a proxy: the header is a client's claim, ignored.
        try await withDemo(on: framework) { (demo) async throws in
            let spoofed = try await demo.login("alice", "secret1", headers: ["X-Forwarded-Proto": "https"])
            #expect(try #require(spoofed.headers.setCookie?["defender-demo-session"]).isSecure == false)
        }
    }

    /// Login CSRF: a page on another site cannot post the login, reset or logout forms.
    @Test(arguments: DemoFramework.allCases) func crossSiteFormPostsAreRefused(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            for headers: HTTPHeaders in [
                ["Sec-Fetch-Site": "cross-site"], ["Origin": "https://evil.example", "Host": "127.0.0.1:8080"], ["Origin": "null"],
            ] {
                let login = try await demo.login("alice", "secret1", headers: headers)
                #expect(login.status == .forbidden && login.headers.setCookie?["defender-demo-session"] == nil, "\(headers)")
                #expect(try await demo.post("/password-reset", body: "username=alice", contentType: "application/x-www-form-urlencoded", headers: headers).status == .forbidden)
                #expect(try await demo.send(.POST, "/logout", headers: headers).status == .forbidden)
            }
            // Refused before Defender: nothing was counted.
            #expect(try await demo.engine().store.state(of: demo.engine().usernameKey("alice")).failures == 0)
            for headers: HTTPHeaders in [
                ["Sec-Fetch-Site": "same-origin"], ["Origin": "http://127.0.0.1:8080", "Host": "127.0.0.1:8080"], [:],
            ] {
                #expect(try await demo.login("alice", "secret1", headers: headers).status == .found, "\(headers)")
            }
        }
    }

    // MARK: Public JSON

    @Test(arguments: DemoFramework.allCases) func permanentBlocksShowSecondsLeftAsNull(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            try await demo.createUser("root", "rootpw", admin: true)
            try await demo.engine().block(username: "eve")
            try await demo.engine().block(ip: "192.0.2.9")
            let basic = "Basic " + Data("root:rootpw".utf8).base64EncodedString()
            let blocks = try await demo.send(.GET, "/admin/defender/api/blocks", headers: ["Authorization": basic])
            #expect(blocks.text.contains(#""secondsLeft":null"#), "\(blocks.text)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(blocks.text.utf8)) as? [String: [[String: Any]]])
            for row in (object["ips"] ?? []) + (object["usernames"] ?? []) { #expect(row.keys.contains("secondsLeft"), "\(row)") }
            // An attempt without a username shows `"username": null`.
            _ = try await demo.post("/login", body: "password=x", contentType: "application/x-www-form-urlencoded")
            var attempts = ""
            for _ in 0..<40 where !attempts.contains(#""username":null"#) {
                try await Task.sleep(for: .milliseconds(100))  // rows are written in the background, within 2 s
                attempts = try await demo.send(.GET, "/admin/defender/api/attempts?limit=5", headers: ["Authorization": basic]).text
            }
            #expect(attempts.contains(#""username":null"#), "\(attempts)")
        }
    }
}
