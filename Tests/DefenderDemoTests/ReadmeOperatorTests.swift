// The README's operator-side example, compiled and run here (the README quotes it word for word: checked by
// ReadmeEntryPointsTests.readmeQuotesEveryExample).
import DefenderDemoApp
import DefenderFluent
import DefenderVapor
import Fluent
import FluentSQLiteDriver
import Prometheus
import Testing
import Vapor
import VaporTesting

// README: operator
func configureOperatorSide(_ app: Application, metrics: PrometheusCollectorRegistry) throws {
    app.defender.configuration = try .fromEnvironment()
    app.defender.metricsFactory = PrometheusMetricsFactory(registry: metrics)  // serve metrics.emitToString()
    app.migrations.add(CreateAccessAttempt(), CreateDenylistEntry(), CreateSharedRangeEntry())  // DefenderFluent's tables
    app.defender.useAccessLog(FluentAccessLog(database: { app.db }))  // the audit log, written in the background
    app.defender.useStoredDenylist(FluentDenylist(database: { app.db }))  // the admin's and `defender deny`'s ranges
    app.defender.useStoredSharedRanges(FluentSharedRanges(database: { app.db }))  // and `defender share`'s
    app.defender.useCommands()  // defender cleanup | blocks | block | unblock | deny | undeny | denylist | share | …
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
            let registry = PrometheusCollectorRegistry()
            try configureOperatorSide(app, metrics: registry)
            try await app.autoMigrate()
            #expect(app.asyncCommands.commands["defender"] != nil)
            let response = try await app.testing().sendRequest(.GET, "/admin/defender")
            #expect(response.status == .found)
            #expect(app.defender.accessLog is FluentAccessLog && app.defender.storedDenylist is FluentDenylist)
            // A failed login shows in the registry.
            app.post("login") { req in try await req.defender.watchLogin { _ in throw Abort(.unauthorized) } }
            _ = try await app.testing().sendRequest(.POST, "/login", beforeRequest: { try $0.content.encode(["username": "x"], as: .urlEncodedForm) })
            #expect(registry.emitToString().contains("defender_logins_total{outcome=\"failure\"} 1"))
        }
    }
}
