import DefenderTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The two demos keep one public contract (DESIGN §5): every route, status, header and body alike, but the
/// `Server` header. Both run side by side and answer the same requests.
@Suite(.serialized) struct DemoDifferentialTests {
    /// Every route of the contract, in the shapes a client sends and the shapes an attacker tries.
    static let contractProbes: [Probe] = [
        Probe(path: "/"),
        Probe(path: "/login"),
        Probe(path: "/login?next=/admin/defender"),
        Probe(path: "/login?next=//evil.example"),
        Probe(path: "/password-reset"),
        Probe(path: "/healthz"),
        Probe(path: "/api/me"),
        .basic("/api/me", "alice:secret1"),
        .basic("/api/me", "alice:wrong"),
        Probe(path: "/api/me", headers: [("Authorization", "Basic !!!")]),
        Probe(path: "/api/me", headers: [("Authorization", "Bearer abc")]),
        .form("/login", [("username", "alice"), ("password", "secret1")]),
        .form("/login", [("username", "alice"), ("password", "secret1"), ("next", "/somewhere?x=1")]),
        .form("/login", [("username", "alice"), ("password", "secret1"), ("next", "https://evil.example/")]),
        .form("/login", [("username", "ALICE "), ("password", "secret1")]),
        .form("/login", [("username", "nobody"), ("password", "x")]),
        .form("/login", [("password", "secret1")]),
        .form("/login", []),
        .form("/login", [("username", "alice"), ("password", "secret1")], headers: [("Origin", "https://evil.example")]),
        .form("/login", [("username", "alice"), ("password", "secret1")], headers: [("Sec-Fetch-Site", "cross-site")]),
        .json("/login", #"{"username":"alice","password":"secret1"}"#),
        .json("/api/login", #"{"username":"alice","password":"secret1"}"#, headers: [("Origin", "https://evil.example")]),
        .form("/password-reset", [("username", "alice")], headers: [("Sec-Fetch-Site", "cross-site")]),
        .form("/logout", [], headers: [("Origin", "null")]),
        .form("/login", [("username", "alice"), ("password", "x")], headers: [("Origin", "http://127.0.0.1:1")]),
        .form("/login", [("username", "alice"), ("password", "x")], headers: [("Sec-Fetch-Site", "same-origin"), ("Origin", "https://evil.example")]),
        Probe(method: .POST, path: "/login", headers: [("Content-Type", "text/plain")], body: "username=alice&password=secret1"),
        .json("/api/login", #"{"username":"alice","password":"secret1"}"#),
        .json("/api/login", #"{"username":"alice","password":"nope"}"#),
        .json("/api/login", #"{"username":"alice""#),
        .json("/api/login", #"{"password":"secret1"}"#),
        .form("/api/login", [("username", "alice"), ("password", "secret1")]),
        .form("/password-reset", [("username", "alice")]),
        .form("/password-reset", [("username", "nobody")]),
        .form("/password-reset", []),
        Probe(path: "/admin/defender"),
        Probe(path: "/admin/defender/api/blocks"),
        .basic("/admin/defender/api/blocks", "alice:secret1"),
        .basic("/admin/defender/api/blocks", "root:rootpw1"),
        .basic("/admin/defender/api/blocks", "root:wrong"),
        .form("/logout", []),
        Probe(path: "/nothing-here"),
        Probe(method: .DELETE, path: "/login"),
        Probe(method: .PUT, path: "/api/login", headers: [("Content-Type", "application/json")], body: "{}"),
        Probe(path: "/admin/defender/api/nothing"),
        Probe(method: .POST, path: "/healthz"),
    ]

    /// The shapes in which two parsers of one request could disagree: repeated fields, escapes, charsets, other
    /// media types, a body over the limit. Each site must read each the same way (one reading, both frameworks).
    static let shapeProbes: [Probe] = {
        func raw(_ path: String, _ type: String, _ body: String) -> Probe {
            Probe(method: .POST, path: path, headers: [("Content-Type", type)], body: body)
        }
        let form = "application/x-www-form-urlencoded"
        let boundary = "XyZ"
        let multipart = "--\(boundary)\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nsecret1\r\n--\(boundary)--\r\n"
        return [
            raw("/login", form, ""),
            raw("/login", "application/json", ""),
            raw("/password-reset", form, ""),
            raw("/login", form, "&&&"),
            raw("/login", form, "x=1"),
            raw("/login", form, "username=bob&username=alice&password=secret1"),
            raw("/login", form, "username=al%69ce&password=secret1"),
            raw("/login", form, "username=alice+&password=secret1"),
            raw("/login", form, "username=%E2%80%AEalice&password=secret1"),
            raw("/login", form, "username=alice&password=secret1&username="),
            raw("/login", form, "username[]=alice&password=secret1"),
            raw("/login", form, "username=%zz&password=secret1"),
            raw("/login", form + "; charset=utf-8", "username=alice&password=secret1"),
            raw("/login", form + "; charset=iso-8859-1", "username=alice&password=secret1"),
            raw("/login", "multipart/form-data; boundary=\(boundary)", multipart),
            raw("/login", form, "username=alice&password=" + String(repeating: "x", count: 20_000)),
            // A body of exactly the 16 KiB limit is read; one byte more is `413`.
            raw("/login", form, "username=alice&password=" + String(repeating: "x", count: 16_384 - 24)),
            raw("/login", form, "username=alice&password=" + String(repeating: "x", count: 16_384 - 23)),
            raw("/api/login", "application/json", #"{"username":"bob","username":"alice","password":"secret1"}"#),
            raw("/api/login", "application/json", #"{"username":"\u0061lice","password":"secret1"}"#),
            raw("/api/login", "application/json; charset=utf-8", #"{"username":"alice","password":"secret1"}"#),
            raw("/api/login", "application/json", #"{"username":["alice"],"password":"secret1"}"#),
            raw("/api/login", "application/json", #"{"username":5,"password":"secret1"}"#),
            raw("/api/login", "application/json", #"["alice","secret1"]"#),
            raw("/api/login", "application/json", ""),
            raw("/api/login", "text/plain", #"{"username":"alice","password":"secret1"}"#),
            raw("/password-reset", form, "username=bob&username=alice"),
            raw("/password-reset", "application/json", #"{"username":"alice"}"#),
            raw("/password-reset", form, "username=" + String(repeating: "x", count: 20_000)),
            raw("/api/login", "application/json", #"{"username":"alice","password":""# + String(repeating: "x", count: 20_000) + #""}"#),
            Probe(method: .POST, path: "/login", headers: [("Content-Type", form), ("X-Forwarded-For", "not-an-address")], body: "username=alice&password=x"),
            Probe(method: .POST, path: "/login", headers: [("Content-Type", form), ("X-Forwarded-For", "203.0.113.9, 10.0.0.1")], body: "username=alice&password=x"),
        ] + mediaTypeProbes
    }()

    /// `Content-Type` in the shapes that made Vapor's decoder lookup depend on the process (a media type not in
    /// lower case, a wildcard: its dictionary's `==` ignores case and matches `*`, its hash does not) or that the two
    /// demos read differently (two fields, a list): each demo reads them alike, in every process.
    static let mediaTypeProbes: [Probe] = {
        let json = #"{"username":"alice","password":"secret1"}"#
        let form = "username=alice&password=secret1"
        let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nsecret1\r\n--XyZ--\r\n"
        let shapes: [(String, [String], String)] = [
            ("/api/login", ["APPLICATION/JSON"], json),
            ("/api/login", ["Application/Json; Charset=UTF-8"], json),
            ("/login", ["Application/X-WWW-Form-Urlencoded"], form),
            ("/login", ["application/x-www-form-urlencoded; CHARSET=utf-8"], form),
            ("/login", ["Multipart/Form-Data; BOUNDARY=XyZ"], multipart),
            ("/login", ["multipart/form-data; boundary=\"XyZ\""], multipart),
            ("/api/login", ["*/*"], json),
            ("/login", ["*/*"], form),
            ("/api/login", ["application/*"], json),
            ("/api/login", ["application/x-www-form-urlencoded", "application/json"], json),
            ("/api/login", ["application/json", "application/x-www-form-urlencoded"], json),
            ("/login", ["application/x-www-form-urlencoded", "application/json"], form),
            ("/login", ["application/x-www-form-urlencoded, application/json"], form),
            ("/api/login", ["application/x-www-form-urlencoded, application/json"], json),
        ]
        // A browser sends `Sec-Fetch-Site` and `Origin` once: two of either are refused as cross-site, alike.
        let fetchSite = [["cross-site", "same-origin"], ["same-origin", "cross-site"], ["same-origin, cross-site"]].map { values in
            Probe(method: .POST, path: "/login", headers: [("Content-Type", "application/x-www-form-urlencoded")] + values.map { ("Sec-Fetch-Site", $0) }, body: form)
        }

        return shapes.enumerated().map { index, shape in
            Probe(
                method: .POST, path: shape.0, headers: shape.1.map { ("Content-Type", $0) } + [("X-Forwarded-For", "198.51.100.\(index + 1)")],
                body: shape.2)
        } + fetchSite
    }()

    /// `DEMO_PROTECTION=off` (the load test's baseline), `floor` (the success path's floor) and `bare403` (the
    /// lockout path's) answer alike too.
    @Test(arguments: ["off", "floor", "bare403"]) func loadTestModesAnswerAlike(_ mode: String) async throws {
        try await withBothDemos(["DEMO_PROTECTION": mode]) { vapor, hummingbird in
            try await expectSameAnswers(
                [
                    .form("/login", [("username", "alice"), ("password", "secret1")]), .form("/login", [("username", "alice"), ("password", "no")]),
                    .form("/login", []), .json("/api/login", #"{"username":"alice","password":"secret1"}"#), .json("/api/login", "{"),
                    Probe(path: "/login"),
                ], vapor, hummingbird)
        }
    }

    @Test func requestShapesAnswerAlike() async throws {
        try await withBothDemos(["DEFENDER_LOGIN_FAILURE_LIMIT": "100", "DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { vapor, hummingbird in
            try await expectSameAnswers(Self.shapeProbes, vapor, hummingbird)
        }
    }

    @Test func everyRouteAnswersAlike() async throws {
        // A high limit, so that no lockout masks what a route answers (the lockouts have their own test).
        try await withBothDemos(["DEFENDER_LOGIN_FAILURE_LIMIT": "100"]) { vapor, hummingbird in
            try await expectSameAnswers(Self.contractProbes, vapor, hummingbird)
        }
    }

    /// Lockouts on every entry point: the form, JSON, Basic and password reset, with the lockout page, problem+json,
    /// `LOCKOUT_URL` and status 429.
    @Test(arguments: [
        [String: String](), ["DEFENDER_LOCKOUT_URL": "/locked"], ["DEFENDER_LOCKOUT_STATUS": "429"],
        ["DEFENDER_LOCKOUT_STATUS": "429", "DEFENDER_LOCKOUT_URL": "/locked", "DEFENDER_RATELIMIT_HEADERS": "true"],
    ])
    func lockoutsAnswerAlike(_ environment: [String: String]) async throws {
        try await withBothDemos(environment) { vapor, hummingbird in
            var probes: [Probe] = []
            for attempt in 1...4 { probes.append(.form("/login", [("username", "alice"), ("password", "wrong\(attempt)")])) }
            probes += [
                .form("/login", [("username", "alice"), ("password", "secret1")]),
                Probe(path: "/login"),
                .json("/api/login", #"{"username":"alice","password":"secret1"}"#),
                .basic("/api/me", "alice:secret1"),
                .form("/password-reset", [("username", "alice")]),
                Probe(path: "/password-reset"),
                .basic("/admin/defender/api/blocks", "root:rootpw1"),
                Probe(path: "/healthz"),
            ]
            try await expectSameAnswers(probes, vapor, hummingbird)
        }
    }

    /// The client address (DESIGN §2) under both. Without a proxy setting a forwarded header is ignored, whoever
    /// sends it: the socket's address is counted and locked. Behind a proxy the rightmost untrusted entry is the
    /// client whatever the left of the header claims, and the spellings of one IPv6 /64 share one counter.
    @Test func clientAddressesAnswerAlike() async throws {
        let alice: [(String, String)] = [("username", "alice"), ("password", "secret1")]
        try await withBothDemos { vapor, hummingbird in
            var probes: [Probe] = (1...4).map { attempt in
                .form("/login", [("username", "nobody\(attempt)"), ("password", "x")], headers: [("X-Forwarded-For", "203.0.113.\(attempt)")])
            }
            probes.append(.form("/login", alice, headers: [("X-Forwarded-For", "198.51.100.1")]))
            try await expectSameAnswers(probes, vapor, hummingbird)
            for site in [vapor, hummingbird] { #expect(try await site.send(.form("/login", alice)).status == 403, "\(site.name)") }
        }
        try await withBothDemos(["DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { vapor, hummingbird in
            var probes: [Probe] = (1...4).map { attempt in
                .form("/login", [("username", "u\(attempt)"), ("password", "x")], headers: [("X-Forwarded-For", "10.9.9.\(attempt), 203.0.113.7")])
            }
            probes.append(.form("/login", alice, headers: [("X-Forwarded-For", "198.51.100.50, 203.0.113.7")]))
            let spellings = ["2001:db8:1:2::1", "[2001:db8:1:2::abcd]:443", "2001:DB8:1:2:0:0:0:5", "2001:db8:1:2::9"]
            for (index, address) in spellings.enumerated() {
                probes.append(.form("/login", [("username", "v\(index)"), ("password", "x")], headers: [("X-Forwarded-For", address)]))
            }
            try await expectSameAnswers(probes, vapor, hummingbird)
            for site in [vapor, hummingbird] {
                #expect(try await site.send(.form("/login", alice, headers: [("X-Forwarded-For", "203.0.113.7")])).status == 403, "\(site.name)")
                #expect(try await site.send(.form("/login", alice, headers: [("X-Forwarded-For", "2001:db8:1:2:ffff::1")])).status == 403, "\(site.name)")
                #expect(try await site.send(.form("/login", alice, headers: [("X-Forwarded-For", "203.0.113.8")])).status == 302, "\(site.name)")
                // The metrics are the operator's: refused to a client on the internet, served to one on the network.
                let outside = try await site.send(Probe(path: "/metrics", headers: [("X-Forwarded-For", "203.0.113.60")]))
                #expect(outside.status == 403 && !outside.body.contains("defender_"), "\(site.name): \(outside)")
                let inside = try await site.send(Probe(path: "/metrics", headers: [("X-Forwarded-For", "10.1.2.3")]))
                #expect(inside.status == 200 && inside.body.contains("defender_"), "\(site.name): \(inside.status)")
            }
            try await expectSameAnswers([Probe(path: "/metrics", headers: [("X-Forwarded-For", "198.51.100.60")])], vapor, hummingbird)
        }
    }

    /// Every mode and list of the settings answers alike: AND mode, disabled dimensions, escalation, permanent
    /// lockouts, allow and deny lists, spraying, dry run. Each runs the same sequence of logins from a few
    /// addresses and names on both.
    @Test(arguments: [
        ["DEFENDER_LOCK_OUT_BY_IP_AND_USERNAME": "true"],
        ["DEFENDER_DISABLE_IP_LOCKOUT": "true"],
        ["DEFENDER_DISABLE_USERNAME_LOCKOUT": "true"],
        ["DEFENDER_LOCKOUT_COOLOFF_TIME": "0"],
        ["DEFENDER_LOCKOUT_COOLOFF_TIME": "60,300,0", "DEFENDER_SUCCESS_RESET": "all"],
        ["DEFENDER_IP_ALLOWLIST": "203.0.113.0/24", "DEFENDER_USERNAME_DENYLIST": "root"],
        ["DEFENDER_IP_DENYLIST": "198.51.100.7/32,2001:db8::/32"],
        ["DEFENDER_SPRAY_USERNAME_LIMIT": "2"],
        ["DEFENDER_DRY_RUN": "true"],
    ])
    func settingsAnswerAlike(_ settings: [String: String]) async throws {
        try await withBothDemos(settings.merging(["DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { $1 }) { vapor, hummingbird in
            let probes = Self.randomLogins(
                seed: 0x5E77_1265, count: 60, names: ["alice", "bob", "root", "carol"], passwords: ["secret1", "wrong", "rootpw1"],
                addresses: ["203.0.113.1", "198.51.100.7", "192.0.2.4", "2001:db8::9"], shapes: 3)
            try await expectSameAnswers(probes, vapor, hummingbird)
        }
    }

    /// A Redis that cannot be reached, under each failure policy: the same answers, health and 503s on both.
    @Test(arguments: ["fallback", "open", "closed"])
    func redisOutageAnswersAlike(_ policy: String) async throws {
        let env = [
            "DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": "redis://127.0.0.1:1/0?connect_timeout=0.2",
            "DEFENDER_STORE_FAILURE_POLICY": policy,
        ]
        try await withBothDemos(env) { vapor, hummingbird in
            var probes: [Probe] = []
            for attempt in 1...4 { probes.append(.form("/login", [("username", "alice"), ("password", "no\(attempt)")])) }
            probes += [
                .form("/login", [("username", "alice"), ("password", "secret1")]),
                .json("/api/login", #"{"username":"alice","password":"secret1"}"#),
                .basic("/api/me", "alice:secret1"),
                Probe(path: "/healthz"),
                .basic("/admin/defender/api/blocks", "root:rootpw1"),
            ]
            try await expectSameAnswers(probes, vapor, hummingbird)
            let health = try await vapor.send(Probe(path: "/healthz"))
            #expect(health.status == (policy == "closed" ? 503 : 200) && health.body.contains(#""status":"degraded""#), "\(health.body)")
        }
    }

    /// The admin as an admin: the page escapes what users typed, and its forms and JSON API refuse a session
    /// request without the CSRF token, on both.
    @Test func adminEscapesAndChecksCSRFAlike() async throws {
        let evil = "<script>alert(1)</script>"
        let basic = [("Authorization", "Basic " + Data("root:rootpw1".utf8).base64EncodedString())]
        try await withBothDemos(["DEFENDER_USE_CELERY": "false"]) { vapor, hummingbird in
            try await expectSameAnswers([
                .form("/login", [("username", evil), ("password", "x")]),
                .json("/admin/defender/api/block", #"{"username":"\#(evil)"}"#, headers: basic),
                .form("/login", [("username", "root"), ("password", "rootpw1")]),
                // A session request without the token: refused by the JSON API and by the page's forms.
                Probe(method: .POST, path: "/admin/defender/api/unblock", headers: [("Content-Type", "application/json")], body: #"{"username":"x"}"#, withSession: true),
                Probe(method: .POST, path: "/admin/defender/unblock", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "username=x", withSession: true),
                Probe(method: .POST, path: "/admin/defender/unblock", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "username=x&csrf=forged", withSession: true),
            ], vapor, hummingbird)
            for site in [vapor, hummingbird] {
                let page = try await site.send(Probe(path: "/admin/defender", withSession: true))
                #expect(page.status == 200, "\(site.name)")
                #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.body.contains(evil), "\(site.name)")
            }
            // Each site's own token, sent once, twice, or with a forged one: valid only as the one token sent
            // (a framework that read the first field would take the pair, one that joins them would not).
            var answers: [[Answer]] = []
            for site in [vapor, hummingbird] {
                let cookie = [("Cookie", "\(DemoSessionCookie.name)=\(site.session ?? "")")]
                let (_, page) = try await site.exchange(.GET, "/admin/defender", headers: HTTPHeaders(cookie), body: nil)
                let token = try #require(String(buffer: page).firstMatch(of: /name="csrf-token" content="([0-9a-f]+)"/)?.1).description
                var shapes: [[(String, String)]] = [[(token, "")], [(token, ""), (token, "")], [(token, ""), ("forged", "")], [("forged", ""), (token, "")]]
                shapes = shapes.map { $0.map { ("X-CSRF-Token", $0.0) } }
                var siteAnswers: [Answer] = []
                for shape in shapes {
                    siteAnswers.append(try await site.send(Probe(
                        method: .POST, path: "/admin/defender/api/unblock", headers: [("Content-Type", "application/json")] + shape,
                        body: #"{"username":"nobody"}"#, withSession: true)))
                }
                answers.append(siteAnswers)
            }
            #expect(answers[0] == answers[1], "\(answers[0]) against \(answers[1])")
            #expect(answers[0].map(\.status) == [204, 403, 403, 403], "\(answers[0].map(\.status))")
        }
    }

    /// A session: log in, see who is logged in, the admin (session admin), log out.
    @Test func sessionsAnswerAlike() async throws {
        // Audit rows written inline, so that both sites list the same attempts at once.
        try await withBothDemos(["DEFENDER_USE_CELERY": "false"]) { vapor, hummingbird in
            let probes: [Probe] = [
                // Repeated `User-Agent` and `Accept` fields: logged alike (joined), whatever the framework hands out.
                .form("/login", [("username", "eve"), ("password", "x")], headers: [
                    ("User-Agent", "first/1"), ("User-Agent", "second/2"), ("Accept", "text/html"), ("Accept", "application/xhtml+xml"),
                ]),
                .form("/login", [("username", "root"), ("password", "rootpw1")]),
                Probe(path: "/", withSession: true),
                Probe(path: "/admin/defender/api/blocks", withSession: true),
                Probe(path: "/admin/defender/api/attempts?limit=0", withSession: true),
                Probe(path: "/admin/defender/api/attempts?username=eve", withSession: true),
                .json("/admin/defender/api/block", #"{"username":"mallory"}"#, headers: [("Cookie", "")]),
                Probe(method: .POST, path: "/logout", withSession: true),
                Probe(path: "/", withSession: true),
                .form("/login", [("username", "alice"), ("password", "secret1")]),
                Probe(path: "/admin/defender/api/blocks", withSession: true),
                Probe(path: "/admin/defender", withSession: true),
                // A session cookie the site does not know: the expired cookie back, nothing stored.
                Probe(path: "/healthz", headers: [("Cookie", "\(DemoSessionCookie.name)=forged")]),
                Probe(path: "/login", headers: [("Cookie", "\(DemoSessionCookie.name)=forged")]),
            ]
            // Admin Basic credentials are a login: three wrong, then the lockout for the wrong and the right one.
            let basic = Array(repeating: Probe.basic("/admin/defender/api/blocks", "root:guess"), count: 4)
                + [.basic("/admin/defender/api/blocks", "root:rootpw1"), .basic("/admin/defender", "root:rootpw1")]
            try await expectSameAnswers(probes + basic, vapor, hummingbird)
        }
    }

    /// Random sequences of logins from a few addresses and names, in every shape, with a fixed seed: the two sites
    /// count, lock and answer alike at every step.
    @Test func randomSequencesAnswerAlike() async throws {
        try await withBothDemos(["DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { vapor, hummingbird in
            let probes = Self.randomLogins(
                seed: 0xDEF_E2DE2, count: 120, names: ["alice", "Alice", "bob", "root", ""], passwords: ["secret1", "wrong", "rootpw1", ""],
                addresses: ["203.0.113.1", "203.0.113.2", "198.51.100.7", "2001:db8::1"], shapes: 5)
            try await expectSameAnswers(probes, vapor, hummingbird)
        }
    }

    /// `count` seeded logins from `addresses` (as `X-Forwarded-For`) with `names` and `passwords`, in the first
    /// `shapes` of: form, JSON, Basic, password reset, the login page.
    static func randomLogins(seed: UInt64, count: Int, names: [String], passwords: [String], addresses: [String], shapes: UInt64) -> [Probe] {
        var random = SplitMix64(seed: seed)
        var probes: [Probe] = []
        for _ in 0..<count {
            let name = names[Int(random.next() % UInt64(names.count))]
            let password = passwords[Int(random.next() % UInt64(passwords.count))]
            let forwarded = [("X-Forwarded-For", addresses[Int(random.next() % UInt64(addresses.count))])]
            switch random.next() % shapes {
            case 0: probes.append(.form("/login", [("username", name), ("password", password)], headers: forwarded))
            case 1: probes.append(.json("/api/login", #"{"username":"\#(name)","password":"\#(password)"}"#, headers: forwarded))
            case 2: probes.append(.basic("/api/me", "\(name):\(password)", headers: forwarded))
            case 3: probes.append(.form("/password-reset", [("username", name)], headers: forwarded))
            default: probes.append(Probe(path: "/login", headers: forwarded))
            }
        }
        return probes
    }
}
