import DefenderCore
import DefenderFluent
import Fluent
import FluentSQL
import FluentSQLiteDriver
import Foundation
import Testing
import Vapor
import VaporTesting

/// The audit log writes rows in batches (one `INSERT` each): a row the database refuses must not take the rest of
/// its batch with it — those may be the same attacker's other attempts. A real SQLite database refuses one row
/// (a trigger, as a constraint, an index limit or an encoding a server rejects would).
@Suite struct AuditBatchTests {
    @Test func oneRefusedRowDoesNotSinkItsBatch() async throws {
        try await withApp { (app) async throws in
            app.logger.logLevel = .critical
            app.databases.use(.sqlite(.memory), as: .sqlite)
            app.migrations.add(CreateAccessAttempt())
            try await app.autoMigrate()
            let sql = try #require(app.db as? any SQLDatabase)
            try await sql.raw(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON defender_access_attempts WHEN NEW.username = 'poison' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            ).run()
            let log = FluentAccessLog(database: { app.db }, gatherInterval: .milliseconds(10))
            for name in ["a", "poison", "b"] {
                await log.record(AccessAttemptRecord(
                    attemptTime: Date(), username: name, ipAddress: "192.0.2.1", userAgent: "", httpAccept: "", pathInfo: "/login", loginValid: false))
            }
            await log.flush()
            let rows = try await log.attempts(matching: AccessAttemptFilter())
            #expect(Set(rows.compactMap(\.record.username)) == ["a", "b"])
        }
    }
}
