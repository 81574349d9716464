import DefenderDemoApp
import DefenderFluent
import DefenderTesting
import DefenderVapor
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Testing
import Vapor
import VaporTesting

/// The audit log (`defender_access_attempts`) through the demo, on SQLite and on a real PostgreSQL.
@Suite(.serialized) struct DemoAuditLogTests {
    func rows(_ app: Application) async throws -> [AccessAttempt] {
        await (app.defender.accessLog as? FluentAccessLog)?.shutdown()
        return try await AccessAttempt.query(on: app.db).sort(\.$id).all()
    }

    func scenario(_ demo: Demo) async throws {
        var headers = HTTPHeaders()
        headers.add(name: .userAgent, value: "Tester/1.0")
        headers.add(name: .accept, value: "text/html")
        try await demo.login(" Alice", "wrong", headers: headers)
        try await demo.login("alice", "secret1", headers: headers)
        for _ in 0..<4 { try await demo.login("bob", "wrong") }  // the 4th is locked out, still logged
        #expect(try await demo.login("bob", "wrong").status == .forbidden)  // refused: not logged
        try await demo.apiLogin("carol", "x", forwardedFor: "192.0.2.5")  // the loopback IP is blocked by now
    }

    func check(_ rows: [AccessAttempt]) {
        #expect(rows.count == 7)
        guard rows.count == 7 else { return }
        #expect(rows[0].username == " Alice" && rows[0].ipAddress == "127.0.0.1" && rows[0].userAgent == "Tester/1.0")
        #expect(rows[0].httpAccept == "text/html" && rows[0].pathInfo == "/login" && !rows[0].loginValid)
        #expect(rows[1].username == "alice" && rows[1].loginValid)
        #expect(rows[2...5].allSatisfy { $0.username == "bob" && !$0.loginValid })
        #expect(rows[6].username == "carol" && rows[6].pathInfo == "/api/login" && rows[6].ipAddress == "192.0.2.5")
        #expect(rows.allSatisfy { abs($0.attemptTime.timeIntervalSinceNow) < 60 })
    }

    @Test func rowsOnSQLite() async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { (demo) async throws in
            try await scenario(demo)
            check(try await rows(demo.app))
        }
    }

    @Test func rowsOnPostgreSQL() async throws {
        try await withFreshPostgres { url in
            try await withDemo(["DATABASE_URL": url, "DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { (demo) async throws in
                try await scenario(demo)
                check(try await rows(demo.app))
            }
        }
    }

    /// Cleanup and the admin's attempt queries on PostgreSQL too.
    @Test func cleanupAndAdminQueriesOnPostgreSQL() async throws {
        try await withFreshPostgres { url in
            try await withDemo(["DATABASE_URL": url, "DEFENDER_USE_CELERY": "false"]) { (demo) async throws in
                try await DemoApp.createUser(demo.app, name: "root", password: "rootpw", admin: true)
                let old = Date().addingTimeInterval(-86_400 * 2)
                for index in 0..<12 {
                    try await AccessAttempt(AccessAttemptRecord(
                        attemptTime: index < 7 ? old : Date(), username: "p\(index)", ipAddress: "2001:db8::\(index)", userAgent: "",
                        httpAccept: "", pathInfo: "/login", loginValid: index.isMultiple(of: 3))).create(on: demo.app.db)
                }
                #expect(try await AccessAttempt.deleteOlder(than: Date().addingTimeInterval(-86_400), batchSize: 3, on: demo.app.db) == 7)
                let auth: HTTPHeaders = ["Authorization": "Basic " + Data("root:rootpw".utf8).base64EncodedString()]
                let response = try await demo.send(.GET, "/admin/defender/api/attempts?ip=2001:db8::9&valid=true", headers: auth)
                let rows = try JSONDecoder().decode(AttemptsPage.self, from: Data(response.body.readableBytesView)).attempts
                #expect(rows.map(\.username) == ["p9"])
                #expect(try await demo.send(.GET, "/admin/defender?username=p10", headers: auth).text.contains("p10"))
            }
        }
    }

    @Test func inlineModeWritesBeforeAnswering() async throws {
        try await withDemo(["DEFENDER_USE_CELERY": "false"]) { (demo) async throws in
            try await demo.login("alice", "wrong")
            #expect(try await AccessAttempt.query(on: demo.app.db).count() == 1)
        }
    }

    @Test func storeAccessAttemptsOffLogsNothing() async throws {
        try await withDemo(["DEFENDER_STORE_ACCESS_ATTEMPTS": "false"]) { (demo) async throws in
            try await demo.login("alice", "wrong")
            try await demo.login("alice", "secret1")
            #expect(try await rows(demo.app).isEmpty)
        }
    }

    /// A full queue writes inline instead of dropping; shutdown writes what is queued.
    @Test func backpressureNeverDropsRows() async throws {
        try await withDemo { (demo) async throws in
            let app = demo.app
            let log = FluentAccessLog(database: { app.db }, inBackground: true, capacity: 3, batchSize: 2)
            let record = AccessAttemptRecord(
                attemptTime: Date(), username: "x", ipAddress: "192.0.2.1", userAgent: "", httpAccept: "", pathInfo: "/login", loginValid: false)
            for _ in 0..<10 { await log.record(record) }  // no writer running: 3 queued, 7 inline
            #expect(log.pending == 3)
            #expect(try await AccessAttempt.query(on: app.db).count() == 7)
            await log.shutdown()
            #expect(try await AccessAttempt.query(on: app.db).count() == 10)
            await log.record(record)  // after shutdown: inline
            #expect(try await AccessAttempt.query(on: app.db).count() == 11)
        }
    }

    /// 500 logins against a real `defender-demo serve`, then SIGTERM: exactly 500 rows, none lost.
    @Test func fiveHundredLoginsThenSIGTERM() async throws {
        guard let executable = DemoProcess.executable() else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("demo.sqlite").path
        let env = [
            "DATABASE_URL": "sqlite://" + file, "DEMO_BCRYPT_COST": "4", "DEFENDER_LOGIN_FAILURE_LIMIT": "100000",
            "DEFENDER_BEHIND_REVERSE_PROXY": "true",
        ]
        try await DemoProcess.runToEnd(executable, ["create-user", "alice", "secret1"], environment: env)
        let demo = try DemoProcess(executable, environment: env)
        var statuses: [Int] = []
        for chunk in 0..<10 {
            statuses += try await HTTPStorm.run((0..<50).map { index in
                let n = chunk * 50 + index
                return .login(demo.base, n.isMultiple(of: 2) ? "alice" : "user\(n)", n.isMultiple(of: 2) ? "secret1" : "wrong", from: "198.51.100.\(n % 200)")
            })
        }
        #expect(statuses.count(of: 302) == 250 && statuses.count(of: 401) == 250)
        #expect(demo.stop() == 0)
        try await withApp { (app) async throws in
            app.databases.use(.sqlite(.file(file)), as: .sqlite)
            #expect(try await AccessAttempt.query(on: app.db).count() == 500)
            #expect(try await AccessAttempt.query(on: app.db).filter(\.$loginValid == true).count() == 250)
            #expect(try await AccessAttempt.query(on: app.db).filter(\.$username == "alice").count() == 250)
        }
    }
}

/// Runs `body` with the URL of a new, empty PostgreSQL database on the server `scripts/test` started
/// (`DEFENDER_TEST_DATABASE_URL`), dropped afterwards. Without one the test is skipped, except under CI.
func withFreshPostgres(_ body: (String) async throws -> Void) async throws {
    guard let base = ProcessInfo.processInfo.environment["DEFENDER_TEST_DATABASE_URL"] else {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("DEFENDER_TEST_DATABASE_URL is required when CI=true; run the tests with scripts/test")
        }
        return
    }
    let name = "defender_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    func admin(_ sql: String) async throws {
        try await withApp { (app) async throws in
            app.databases.use(try .postgres(url: base), as: .psql)
            try await (app.db as? any SQLDatabase)?.raw(SQLQueryString(sql)).run()
        }
    }
    do {
        try await admin("CREATE DATABASE \(name)")
    } catch {
        Issue.record("could not create a test database: \(String(reflecting: error))")
        return
    }
    guard let slash = base.lastIndex(of: "/") else { return }
    let url = base[..<slash] + "/" + name
    do {
        try await body(url)
    } catch {
        try? await admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        Issue.record("\(String(reflecting: error))")
        return
    }
    try await admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
}
