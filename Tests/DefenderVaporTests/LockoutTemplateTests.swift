import DefenderVapor
import Testing
import Vapor
import VaporTesting

/// A Vapor app renders the lockout page from Defender's shipped template, or from its own.
@Suite struct LockoutTemplateTests {
    static func lockedRoute(_ app: Application) {
        app.get("locked") { req in
            try await req.defender.lockoutResponse(Lockout(keys: [.username("alice")!], retryAfter: .seconds(5)), format: .html)
        }
    }

    @Test func theStandardPageAndAnAppsOwn() async throws {
        try await withApp { (app) async throws in
            Self.lockedRoute(app)
            try await app.testing().test(.GET, "locked") { response in
                #expect(response.status == .forbidden && response.headers.first(name: .retryAfter) == "5")
                #expect(response.body.string.contains("<p>You can try again in 5 seconds.</p>"))
            }
        }
        try await withApp { (app) async throws in
            app.defender.templates = try DefenderTemplates(lockout: "<p class=locked>{{retry_after_seconds}}</p>")
            Self.lockedRoute(app)
            try await app.testing().test(.GET, "locked") { response in
                #expect(response.status == .forbidden && response.body.string == "<p class=locked>5</p>")
                #expect(response.headers.contentType == .html)
            }
        }
    }
}
