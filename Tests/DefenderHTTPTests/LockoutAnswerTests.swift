import DefenderCore
import DefenderHTTP
import HTTPTypes
import Testing

/// The framework-neutral answers every integration sends: the lockout in each form, the unreadable-credentials 400,
/// and the one reading of Basic credentials.
@Suite struct LockoutAnswerTests {
    func ready(_ answer: LockoutAnswer) -> HTTPAnswer? {
        if case .ready(let ready) = answer.body { return ready }
        return nil
    }

    @Test func pageAndProblemJSON() throws {
        var config = DefenderConfiguration()
        let lockout = Lockout(keys: [.username("alice")!], retryAfter: .milliseconds(299_001))
        let page = try #require(ready(LockoutAnswer(lockout, configuration: config, json: false, templates: try DefenderTemplates.standard())))
        #expect(page.status == 403 && page.fields[.retryAfter] == "300" && page.fields[.cacheControl] == "no-store")
        #expect(String(decoding: page.body, as: UTF8.self).contains(LockoutAnswer.temporaryMessage))
        config.lockoutStatus = 429
        let permanent = Lockout(keys: [.username("alice")!], retryAfter: nil)
        let problem = try #require(ready(LockoutAnswer(permanent, configuration: config, json: true, templates: try DefenderTemplates.standard())))
        #expect(problem.status == 429 && problem.fields[.retryAfter] == nil && problem.fields[.contentType] == HTTPAnswer.problemJSON)
        let text = String(decoding: problem.body, as: UTF8.self)
        #expect(text.contains(#""retryAfter":null"#) && text.contains("Contact an admin"))
    }

    @Test func redirectTemplateAndRateLimit() throws {
        var config = DefenderConfiguration()
        config.lockoutURL = "/locked"
        config.rateLimitHeaders = true
        let lockout = Lockout(keys: [.username("alice")!], retryAfter: .seconds(60))
        let redirect = try #require(ready(LockoutAnswer(lockout, configuration: config, json: false, templates: try DefenderTemplates.standard())))
        #expect(redirect.status == 302 && redirect.fields[.location] == "/locked")
        #expect(redirect.fields[HTTPField.Name("RateLimit")!] == "\"username\";r=0;t=60")
        // A shared address's pair (and the address itself) is the IP dimension: the policy names it `ip`, once.
        let address = DefenderKey(kind: .ip, normalizedValue: "100.64.0.1")
        let paired = Lockout(keys: [address, .pair(address: address, username: .username("alice")!), .username("alice")!], retryAfter: .seconds(60))
        let pairAnswer = try #require(ready(LockoutAnswer(paired, configuration: config, json: true, templates: try DefenderTemplates.standard())))
        #expect(pairAnswer.fields[HTTPField.Name("RateLimit")!] == "\"ip\";r=0;t=60, \"username\";r=0;t=60")
        // JSON clients never get the redirect.
        #expect(try #require(ready(LockoutAnswer(lockout, configuration: config, json: true, templates: try DefenderTemplates.standard()))).status == 403)
        config.lockoutTemplate = "locked.leaf"
        guard case .template(let name, _, let status, let fields) = LockoutAnswer(lockout, configuration: config, json: false, templates: try DefenderTemplates.standard()).body else {
            Issue.record("no template")
            return
        }
        #expect(name == "locked.leaf" && status == 403 && fields[.retryAfter] == "60")
    }

    /// The lockout page comes from the shipped Mustache template, word for word the page Defender always sent; an
    /// app's own template replaces it, and what it renders is HTML-escaped.
    @Test func lockoutPageTemplates() throws {
        let config = DefenderConfiguration()
        let temporary = Lockout(keys: [.username("alice")!], retryAfter: .seconds(300))
        let page = try #require(ready(LockoutAnswer(temporary, configuration: config, json: false, templates: try DefenderTemplates.standard())))
        #expect(String(decoding: page.body, as: UTF8.self) == """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Locked out</title></head>
            <body><h1>Locked out</h1><p>\(LockoutAnswer.temporaryMessage)</p><p>You can try again in 300 seconds.</p></body></html>

            """)
        let permanent = Lockout(keys: [.username("alice")!], retryAfter: nil)
        let permanentPage = try #require(ready(LockoutAnswer(permanent, configuration: config, json: false, templates: try DefenderTemplates.standard())))
        let permanentText = String(decoding: permanentPage.body, as: UTF8.self)
        #expect(permanentText.contains(LockoutAnswer.permanentMessage) && !permanentText.contains("try again in"))

        let own = try DefenderTemplates(lockout: "<main>{{#permanent}}forever{{/permanent}}{{#temporary}}{{cooloff_time_seconds}}s of {{failure_limit}}{{/temporary}} {{message}}</main>")
        let ownPage = try #require(ready(LockoutAnswer(temporary, configuration: config, json: false, templates: own)))
        #expect(String(decoding: ownPage.body, as: UTF8.self) == "<main>300s of 3 \(LockoutAnswer.temporaryMessage)</main>")
        #expect(ownPage.status == 403 && ownPage.fields[.retryAfter] == "300")

        // Values are escaped: a template cannot be made to emit markup from what it is given.
        let escaping = try DefenderTemplates(lockout: "{{message}}")
        var denied = Lockout(keys: [.username("alice")!], retryAfter: nil)
        denied.reason = .denylisted
        #expect(String(decoding: try #require(ready(LockoutAnswer(denied, configuration: config, json: false, templates: escaping))).body, as: UTF8.self)
            == LockoutAnswer.deniedMessage)
        #expect(throws: DefenderError.self) { try DefenderTemplates(lockout: "{{#open}} never closed") }
    }

    @Test func unreadableCredentials() {
        #expect(HTTPAnswer.unreadableCredentials(json: true).fields[.contentType] == HTTPAnswer.problemJSON)
        let page = HTTPAnswer.unreadableCredentials(json: false)
        #expect(page.status == 400 && String(decoding: page.body, as: UTF8.self).contains("<h1>Bad request</h1>"))
        #expect(HTTPAnswer.page(status: 200, title: "<t>", paragraphs: ["a&b"]).body.count > 0)
        #expect(String(decoding: HTTPAnswer.page(status: 200, title: "<t>", paragraphs: ["a&b"]).body, as: UTF8.self).contains("&lt;t&gt;"))
    }

    @Test func basicCredentials() {
        #expect(BasicCredentials.parse([]) == .absent)
        #expect(BasicCredentials.parse(["Bearer x"]) == .absent)
        #expect(BasicCredentials.parse(["Basic YWxpY2U6czNjcjN0"]) == .credentials(username: "alice", password: "s3cr3t"))
        #expect(BasicCredentials.parse(["Basic YWxpY2U6czNjcjN0", "Basic YQ=="]) == .malformed(username: nil))
        #expect(BasicCredentials.parse(["Basic YWxpY2U="]) == .malformed(username: "alice"))
        #expect(BasicCredentials.parse(["Basic " + String(repeating: "A", count: 5000)]) == .tooLarge)
    }

    /// The lockout bodies are built once per set of inputs and reused: 5,000 random lockouts (fixed seed; both
    /// formats, every message, 403 and 429, seconds from 0 to a day, several limits) get, from one long-lived set of
    /// templates, byte for byte the body a fresh render gives; the table never grows past its capacity.
    @Test func reusedBodiesAreTheRenderedOnes() throws {
        let shared = try DefenderTemplates()
        var state: UInt64 = 0x10C_0B0D
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<5_000 {
            var config = DefenderConfiguration()
            config.lockoutStatus = next(2) == 0 ? 403 : 429
            config.loginFailureLimit = 1 + next(5)
            let seconds = next(3) == 0 ? next(86_400) : next(300)
            let lockout = Lockout(
                keys: [.username("alice")!], retryAfter: next(5) == 0 ? nil : .milliseconds(seconds * 1000 + next(1000)),
                reason: next(6) == 0 ? .denylisted : .blocked)
            let json = next(2) == 0
            let reused = try #require(ready(LockoutAnswer(lockout, configuration: config, json: json, templates: shared)))
            let fresh = try #require(ready(LockoutAnswer(lockout, configuration: config, json: json, templates: try DefenderTemplates())))
            #expect(reused.body == fresh.body && reused.fields == fresh.fields && reused.status == fresh.status)
            #expect(shared.lockoutBodies.count <= LockoutBodies.capacity)
        }
    }
}
