// The README's operator-side example, compiled and run here (the README quotes it word for word: checked by
// ReadmeEntryPointsTests.readmeQuotesEveryExample).
import DefenderDemoApp
import DefenderFluent
import DefenderVapor
import Fluent
import FluentSQLiteDriver
import Testing
import Vapor
import VaporTesting

// README: operator
func configureOperatorSide(_ app: Application) throws {
    app.defender.configuration = try .fromEnvironment()
    app.defender.useFluentAccessLog()  // defender_access_attempts + its migration + the background writer
    app.defender.useCommands()  // defender cleanup | blocks | block | unblock
    DefenderAdmin { req in  // who is an administrator: your call
        guard let user = req.auth.get(User.self) else { return .anonymous }
        return user.isAdmin ? .sessionAdmin(user.username) : .forbidden
    }.register(on: app.grouped(app.sessions.middleware, User.sessionAuthenticator()))
    DefenderWebhookNotifier(url: "https://hooks.example.com/defender").register(on: app)
}
// END README

@Suite struct ReadmeOperatorTests {
    @Test func operatorExampleWorks() async throws {
        try await withApp { (app) async throws in
            app.logger.logLevel = .warning
            app.databases.use(.sqlite(.memory), as: .sqlite)
            try configureOperatorSide(app)
            try await app.autoMigrate()
            #expect(app.asyncCommands.commands["defender"] != nil)
            let response = try await app.testing().sendRequest(.GET, "/admin/defender")
            #expect(response.status == .found)
            #expect(app.defender.fluentAccessLog != nil)
        }
    }
}
