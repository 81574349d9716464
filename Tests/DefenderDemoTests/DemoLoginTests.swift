@testable import DefenderDemoApp
import DefenderTesting
import DefenderVapor
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@Suite struct DemoLoginTests {
    // Ported: test_login_get (#3).
    @Test(arguments: DemoFramework.allCases) func loginPage(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            let page = try await demo.send(.GET, "/login")
            #expect(page.status == .ok)
            #expect(page.text.contains("name=\"username\"") && page.text.contains("name=\"password\""))
        }
    }

    // Ported: test_valid_login (#9) and test_long_user_agent_valid (#18).
    @Test(arguments: DemoFramework.allCases) func validLoginSetsASessionAndRedirects(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            let response = try await demo.login("alice", "secret1", headers: ["User-Agent": String(repeating: "a", count: 3072)])
            #expect(response.status == .found)
            #expect(response.headers.first(name: .location) == "/")
            let cookie = try #require(response.headers.setCookie?["defender-demo-session"])
            let home = try await demo.send(.GET, "/", headers: ["Cookie": "defender-demo-session=\(cookie.string)"])
            #expect(home.text.contains("Logged in as <strong>alice</strong>"))
            let out = try await demo.send(.POST, "/logout", headers: ["Cookie": "defender-demo-session=\(cookie.string)"])
            #expect(out.status == .found && out.headers.first(name: .location) == "/login")
        }
    }

    // Ported: test_failure_limit_by_ip_once (#4) with limit 3, and the L+1 rule.
    @Test(arguments: DemoFramework.allCases) func lockoutAfterTheLimit(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            for _ in 0..<3 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            let fourth = try await demo.login("alice", "wrong")
            #expect(fourth.status == .forbidden)
            #expect(fourth.retryAfter == "300")
            #expect(fourth.text.contains("Account locked: too many login attempts.  Please try again later."))
            #expect(fourth.headers.first(name: .cacheControl) == "no-store")
            #expect(try await demo.login("alice", "secret1").status == .forbidden)  // right password, still locked
            #expect(try await demo.send(.GET, "/login").status == .forbidden)  // a locked IP sees the lockout page
        }
    }

    @Test(arguments: DemoFramework.allCases) func rightPasswordOnTheFourthAttemptLogsIn(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            for _ in 0..<3 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            #expect(try await demo.login("alice", "secret1").status == .found)
            #expect(try await demo.login("alice", "wrong").status == .unauthorized)  // counters were reset
        }
    }

    @Test func retryAfterCountsDown() async throws {
        try await withDemo { (demo) async throws in
            for _ in 0..<4 { try await demo.login("alice", "wrong") }
            demo.clock.advance(by: .seconds(100))
            #expect(try await demo.login("alice", "secret1").retryAfter == "200")
            demo.clock.advance(by: .seconds(200))
            #expect(try await demo.login("alice", "secret1").status == .found)
        }
    }

    @Test(arguments: DemoFramework.allCases) func jsonLockoutIsProblemJSON(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            for _ in 0..<3 {
                let failure = try await demo.apiLogin("alice", "wrong")
                #expect(failure.status == .unauthorized)
                #expect(failure.headers.contentType?.subType == "problem+json")
            }
            let locked = try await demo.apiLogin("alice", "wrong")
            #expect(locked.status == .forbidden && locked.retryAfter == "300")
            #expect(locked.headers.contentType?.subType == "problem+json")
            let body = try JSONSerialization.jsonObject(with: Data(locked.text.utf8)) as? [String: Any]
            #expect(body?["status"] as? Int == 403 && body?["retryAfter"] as? Int == 300)
            #expect((body?["detail"] as? String)?.hasPrefix("Account locked") == true)
            let ok = try await withDemoFresh(framework) { try await $0.apiLogin("alice", "secret1") }
            #expect(ok.status == .ok && ok.text.contains("\"username\":\"alice\""))
        }
    }

    // Ported: test_failed_login_redirect_to_url (#23) and _local (#24).
    @Test(arguments: DemoFramework.allCases, ["http://localhost/othe/login/", "/o/login/"])
    func lockoutURLRedirects(_ framework: DemoFramework, _ url: String) async throws {
        try await withDemo(["DEFENDER_LOCKOUT_URL": url], on: framework) { (demo) async throws in
            for _ in 0..<3 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            let locked = try await demo.login("alice", "wrong")
            #expect(locked.status == .found && locked.headers.first(name: .location) == url)
            let get = try await demo.send(.GET, "/login")
            #expect(get.status == .found && get.headers.first(name: .location) == url)
            // JSON clients never get the redirect.
            let api = try await demo.apiLogin("alice", "secret1")
            #expect(api.status == .forbidden && api.headers.contentType?.subType == "problem+json")
        }
    }

    // Ported: test_failed_login_no_cooloff (#26).
    @Test(arguments: DemoFramework.allCases) func permanentLockoutHasNoRetryAfter(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_COOLOFF_TIME": "0"], on: framework) { (demo) async throws in
            for _ in 0..<4 { try await demo.login("alice", "wrong") }
            let locked = try await demo.login("alice", "secret1")
            #expect(locked.status == .forbidden && locked.retryAfter == nil)
            #expect(locked.text.contains("Account locked: too many login attempts.  Contact an admin to unlock your account."))
        }
    }

    @Test(arguments: DemoFramework.allCases) func lockoutStatus429(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_LOCKOUT_STATUS": "429"], on: framework) { (demo) async throws in
            for _ in 0..<4 { try await demo.login("alice", "wrong") }
            #expect(try await demo.login("alice", "secret1").status == .tooManyRequests)
            #expect(try await demo.apiLogin("alice", "secret1").status == .tooManyRequests)
        }
    }

    // Ported: test_blocked_ip_cannot_login (#11) and test_blocked_username_cannot_login (#12), with varied IPs.
    @Test(arguments: DemoFramework.allCases) func proxyRightmostUntrustedIsTheClient(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            // The client writes anything on the left; the rightmost untrusted entry is what counts.
            for index in 0..<3 {
                #expect(try await demo.login("user\(index)", "wrong", forwardedFor: "1.1.1.\(index), 5.5.5.5, 10.0.0.1").status == .unauthorized)
            }
            #expect(try await demo.login("user9", "wrong", forwardedFor: "9.9.9.9, 5.5.5.5").status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "5.5.5.5").status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "5.5.5.6").status == .found)
        }
    }

    @Test(arguments: DemoFramework.allCases) func ipv6FormsShareACounter(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            let forms = ["2001:db8::1", "2001:DB8:0:0:0:0:0:1", "[2001:db8::2]:443"]
            for (index, form) in forms.enumerated() {
                #expect(try await demo.login("u\(index)", "wrong", forwardedFor: form).status == .unauthorized)
            }
            #expect(try await demo.login("u9", "wrong", forwardedFor: "2001:db8:0:0:ffff::1").status == .forbidden)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "2001:db8:0:1::1").status == .found)
        }
    }

    @Test(arguments: DemoFramework.allCases) func untrustedPeerCannotSpoofForwardedFor(_ framework: DemoFramework) async throws {
        // Over a real socket the peer is 127.0.0.1; trusting only 10/8 makes it an ordinary client.
        try await withServedDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true", "DEFENDER_TRUSTED_PROXIES": "10.0.0.0/8"], on: framework) { (_, base) async throws in
            for index in 0..<4 {
                let status = try await HTTPStorm.run([.login(base, "u\(index)", "wrong", from: "203.0.113.\(index)")])[0]
                #expect(status == (index < 3 ? 401 : 403))
            }
        }
    }

    // Bad input never yields a 500 (README: "Bad input").
    @Test(arguments: DemoFramework.allCases) func badInput(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true", "DEFENDER_LOGIN_FAILURE_LIMIT": "100"], on: framework) { (demo) async throws in
            #expect(try await demo.login(nil, "secret1").status == .unauthorized)  // missing username
            #expect(try await demo.login("", "secret1").status == .unauthorized)  // empty username
            #expect(try await demo.login("alice", nil).status == .unauthorized)  // missing password
            // A body over 16 KiB is refused before any check, whether it arrived in one piece (Vapor in process, or a
            // fast socket: the Vapor demo's BodyLimitMiddleware) or streamed (oversizedBodyOverASocketIs413).
            #expect(try await demo.login(String(repeating: "a", count: 1_000_000), "x").status == .payloadTooLarge)
            let invalidUTF8 = try await demo.send(
                .POST, "/login", body: ByteBuffer(bytes: Array("username=".utf8) + [0xFF, 0xFE, 0xC3] + Array("&password=x".utf8)),
                contentType: "application/x-www-form-urlencoded")
            #expect(invalidUTF8.status == .unauthorized)
            let rawNonUTF8 = try await demo.send(.POST, "/login", body: ByteBuffer(bytes: [0xC3, 0x28, 0xFF]), contentType: "application/x-www-form-urlencoded")
            #expect(rawNonUTF8.status == .unauthorized)
            // One reading: a form sent as text/plain is not a form to Vapor's decoders, so it names nobody: counted
            // against the IP, refused with 400, the password never checked.
            #expect(try await demo.post("/login", body: "username=alice&password=secret1", contentType: "text/plain").status == .badRequest)
            #expect(try await demo.post("/login", body: "{\"username\":\"alice\"}", contentType: "application/json").status == .unauthorized)
            for header in ["garbage", "1.2.3.4, unknown", "[::1", "1.2.3.4:99999x", String(repeating: "1.1.1.1,", count: 200)] {
                #expect(try await demo.login("alice", "secret1", forwardedFor: header).status == .badRequest, "\(header.prefix(20))")
            }
            #expect(try await demo.post("/api/login", body: "{not json", contentType: "application/json").status == .badRequest)
            #expect(try await demo.post("/api/login", body: "[1,2]", contentType: "application/json").status == .badRequest)
            #expect(try await demo.post("/api/login", body: "{\"username\": 5}", contentType: "application/json").status == .badRequest)
            let wrongType = try await demo.post("/api/login", body: "username=a", contentType: "application/x-www-form-urlencoded")
            #expect(wrongType.status.code >= 400 && wrongType.status.code < 500)
        }
    }

    @Test(arguments: DemoFramework.allCases) func oversizedBodyOverASocketIs413(_ framework: DemoFramework) async throws {
        try await withServedDemo(on: framework) { (_, base) async throws in
            let status = try await HTTPStorm.run([.login(base, String(repeating: "a", count: 1_000_000), "x", from: "192.0.2.1")])[0]
            #expect(status == 413)
        }
    }

    @Test(arguments: DemoFramework.allCases) func usernameVariantsShareALock(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_DISABLE_IP_LOCKOUT": "true"], on: framework) { (demo) async throws in
            for name in ["Alice", "alice ", " ALICE"] { #expect(try await demo.login(name, "wrong").status == .unauthorized) }
            #expect(try await demo.login("alice\t", "wrong").status == .forbidden)
            #expect(try await demo.login("aLiCe", "secret1").status == .forbidden)
        }
    }

    @Test func nextMustBeALocalPath() {
        #expect(DemoPages.safeNext("/account") == "/account")
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil", "/a\nb", nil] as [String?] {
            #expect(DemoPages.safeNext(bad) == nil)
        }
        // A slash glued to a mark that browsers drop (`//\u{FE0F}evil.example` is `//evil.example` to them), and
        // seeded random paths: whatever is accepted starts with one slash byte and is printable ASCII.
        for glued in ["//\u{FE0F}evil.example/", "/\u{301}/evil.example", "/\u{600}/evil", "/\\\u{301}evil"] { #expect(DemoPages.safeNext(glued) == nil) }
        var random = SplitMix64(seed: 0x2E47)
        let pieces = ["/", "\\", "\u{FE0F}", "\u{301}", "\u{600}", "a", ".", ":", "%2F", "?", "#", "\u{0}", " ", "é"]
        for _ in 0..<5_000 {
            let next = (0..<Int.random(in: 1...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            guard let kept = DemoPages.safeNext(next) else { continue }
            let bytes = Array(kept.utf8)
            #expect(bytes[0] == UInt8(ascii: "/") && bytes.dropFirst().first != UInt8(ascii: "/"), "\(next.debugDescription)")
            #expect(bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }, "\(next.debugDescription)")
        }
    }

    /// The open redirect and the reflected markup, over HTTP in both demos: `next` glued to a mark is not followed
    /// after a login, and no part of it becomes markup on the login page.
    @Test(arguments: DemoFramework.allCases) func gluedNextIsNeitherFollowedNorMarkup(_ framework: DemoFramework) async throws {
        try await withDemo([:], on: framework) { (demo) async throws in
            let attack = "/\"\u{301}\u{600}>\u{600}<img src=x onerror=alert(1)//\u{600}>"
            let encoded = attack.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let page = try await demo.send(.GET, "/login?next=" + encoded)
            #expect(!page.text.contains("<img"), "\(page.text)")
            let redirect = "//\u{FE0F}evil.example/".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let login = try await demo.post(
                "/login?next=" + redirect, body: "username=alice&password=secret1&next=" + redirect, contentType: "application/x-www-form-urlencoded")
            #expect(login.status == .found && login.headers.first(name: .location)?.contains("evil") == false,
                "\(login.status) \(login.headers.first(name: .location) ?? "-")")
        }
    }

    @Test(arguments: DemoFramework.allCases) func healthAndEscaping(_ framework: DemoFramework) async throws {
        try await withDemo(users: [("<b>x</b>", "pw")], on: framework) { (demo) async throws in
            let health = try await demo.send(.GET, "/healthz")
            #expect(health.status == .ok && health.text.contains("\"status\":\"ok\"") && health.text.contains("\"store\":\"memory\""))
            let response = try await demo.login("<b>x</b>", "pw")
            let cookie = try #require(response.headers.setCookie?["defender-demo-session"])
            let home = try await demo.send(.GET, "/", headers: ["Cookie": "defender-demo-session=\(cookie.string)"])
            #expect(home.text.contains("&lt;b&gt;x&lt;/b&gt;") && !home.text.contains("<b>x</b>"))
            let page = try await demo.send(.GET, "/login?next=%22%3E%3Cscript%3E")
            #expect(!page.text.contains("<script>"))
        }
    }

    /// The load tests' baseline: the same login, unprotected.
    @Test(arguments: DemoFramework.allCases) func protectionOff(_ framework: DemoFramework) async throws {
        try await withDemo(["DEMO_PROTECTION": "off"], on: framework) { (demo) async throws in
            for _ in 0..<6 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            #expect(try await demo.login("alice", "secret1").status == .found)
            for _ in 0..<6 { #expect(try await demo.apiLogin("alice", "wrong").status == .unauthorized) }
            #expect(try await demo.apiLogin("alice", "secret1").status == .ok)
        }
        // The lockout path's floor: every login POST answered 403 at once, nothing else changed.
        try await withDemo(["DEMO_PROTECTION": "bare403"], on: framework) { (demo) async throws in
            #expect(try await demo.login("alice", "secret1").status == .forbidden)
            #expect(try await demo.apiLogin("alice", "secret1").status == .forbidden)
            #expect(try await demo.send(.GET, "/healthz").status == .ok)
        }
        #expect(throws: DefenderError.self) { try DemoSettings.fromEnvironment(["DEMO_PROTECTION": "maybe"]) }
    }

    /// The load tests' cheap hash (insecure, opt-in): logins and lockouts work the same.
    @Test(arguments: DemoFramework.allCases) func sha256PasswordsForLoadTests(_ framework: DemoFramework) async throws {
        try await withDemo(["DEMO_PASSWORD_HASH": "sha256"], on: framework) { (demo) async throws in
            #expect(try await demo.login("alice", "secret1").status == .found)
            #expect(try await demo.login("nobody", "x").status == .unauthorized)
            for _ in 0..<2 { #expect(try await demo.login("alice", "wrong").status == .unauthorized) }
            #expect(try await demo.login("alice", "wrong").status == .forbidden)  // the IP's 4th failure
            let stored = try await User.query(on: demo.database).first()?.passwordHash ?? ""
            #expect(stored.hasPrefix("sha256$"))
        }
        #expect(throws: DefenderError.self) { try DemoSettings.fromEnvironment(["DEMO_PASSWORD_HASH": "md5"]) }
    }

    @Test func settingsErrorsNameTheVariable() async throws {
        for (name, value) in [("DEFENDER_LOGIN_FAILURE_LIMIT", "abc"), ("DEMO_BCRYPT_COST", "3"), ("DATABASE_URL", "sqlite://relative.db"),
                              ("DATABASE_URL", "mysql://u:hunter2@h/db")] {
            let error = #expect(throws: DefenderError.self) { try DemoSettings.fromEnvironment([name: value]) }
            #expect(error?.setting == name)
            #expect(error?.description.contains("hunter2") == false)
        }
        let settings = try DemoSettings.fromEnvironment(["DATABASE_URL": "sqlite:///srv/app/db.sqlite"])
        #expect(settings.database == .sqliteFile("/srv/app/db.sqlite"))
        #expect(try DemoSettings.fromEnvironment(["DATABASE_URL": "postgres://u:pw@h/db"]).database == .postgres("postgres://u:pw@h/db"))
        // The demo's settings dump and print without the database's password or the webhook's URL.
        let secretive = try DemoSettings.fromEnvironment([
            "DATABASE_URL": "postgres://u:DbPassw0rd@db.internal/app", "DEFENDER_NOTIFY_WEBHOOK_URL": "https://hooks.example/T0/B0/HookS3cret",
        ])
        #expect(secretive.webhookURL == "https://hooks.example/T0/B0/HookS3cret")
        for text in everyRendering(of: secretive) {
            #expect(!text.contains("DbPassw0rd") && !text.contains("HookS3cret") && text.contains("db.internal"), "\(text)")
        }
        // A URL PostgreSQL cannot use stops start-up without echoing it, in both demos.
        for framework in DemoFramework.allCases {
            let error = await #expect(throws: DefenderError.self) {
                try await withDemo(["DATABASE_URL": "postgres://u:hunter2@[bad/db"], on: framework) { _ in }
            }
            #expect(error?.setting == "DATABASE_URL" && error?.description.contains("hunter2") == false, "\(framework)")
        }
    }
}

/// A fresh demo for a single request.
func withDemoFresh(_ framework: DemoFramework, _ body: (Demo) async throws -> DemoResponse) async throws -> DemoResponse {
    var result: DemoResponse?
    try await withDemo(on: framework) { result = try await body($0) }
    return try #require(result)
}
