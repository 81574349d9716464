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
        let page = try #require(ready(LockoutAnswer(lockout, configuration: config, json: false)))
        #expect(page.status == 403 && page.fields[.retryAfter] == "300" && page.fields[.cacheControl] == "no-store")
        #expect(String(decoding: page.body, as: UTF8.self).contains(LockoutAnswer.temporaryMessage))
        config.lockoutStatus = 429
        let permanent = Lockout(keys: [.username("alice")!], retryAfter: nil)
        let problem = try #require(ready(LockoutAnswer(permanent, configuration: config, json: true)))
        #expect(problem.status == 429 && problem.fields[.retryAfter] == nil && problem.fields[.contentType] == HTTPAnswer.problemJSON)
        let text = String(decoding: problem.body, as: UTF8.self)
        #expect(text.contains(#""retryAfter":null"#) && text.contains("Contact an admin"))
    }

    @Test func redirectTemplateAndRateLimit() throws {
        var config = DefenderConfiguration()
        config.lockoutURL = "/locked"
        config.rateLimitHeaders = true
        let lockout = Lockout(keys: [.username("alice")!], retryAfter: .seconds(60))
        let redirect = try #require(ready(LockoutAnswer(lockout, configuration: config, json: false)))
        #expect(redirect.status == 302 && redirect.fields[.location] == "/locked")
        #expect(redirect.fields[HTTPField.Name("RateLimit")!] == "\"username\";r=0;t=60")
        // JSON clients never get the redirect.
        #expect(try #require(ready(LockoutAnswer(lockout, configuration: config, json: true))).status == 403)
        config.lockoutTemplate = "locked.leaf"
        guard case .template(let name, _, let status, let fields) = LockoutAnswer(lockout, configuration: config, json: false).body else {
            Issue.record("no template")
            return
        }
        #expect(name == "locked.leaf" && status == 403 && fields[.retryAfter] == "60")
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
}
