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
    func rows(_ demo: Demo) async throws -> [AccessAttempt] {
        await demo.flushAuditLog()
        return try await AccessAttempt.query(on: demo.database).sort(\.$id).all()
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

    @Test(arguments: DemoFramework.allCases) func rowsOnSQLite(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            try await scenario(demo)
            check(try await rows(demo))
        }
    }

    @Test(arguments: DemoFramework.allCases) func rowsOnPostgreSQL(_ framework: DemoFramework) async throws {
        try await withFreshPostgres { url in
            try await withDemo(["DATABASE_URL": url, "DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
                try await scenario(demo)
                check(try await rows(demo))
            }
        }
    }

    /// Client text PostgreSQL would refuse or could not index — a NUL, one grapheme cluster of 7,000 combining
    /// marks — is still logged (a NUL as U+FFFD; fields cut by bytes): an attacker cannot keep attempts out of the
    /// audit log by their shape (such a row failed its whole batch).
    @Test(arguments: DemoFramework.allCases) func textPostgreSQLWouldRefuseIsLogged(_ framework: DemoFramework) async throws {
        try await withFreshPostgres { url in
            try await withDemo(["DATABASE_URL": url, "DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
                let marks = "a" + String(repeating: "\u{301}", count: 7_000)
                try await demo.apiLogin("nul\\u0000name", "x", forwardedFor: "192.0.2.61")
                try await demo.apiLogin(marks, "x", forwardedFor: "192.0.2.62", headers: ["User-Agent": marks])
                try await demo.apiLogin("plain", "x", forwardedFor: "192.0.2.63")
                let logged = try await rows(demo)
                #expect(logged.map { $0.username?.utf8.count ?? -1 } == ["nul\u{FFFD}name".utf8.count, 255, 5], "\(logged.map(\.username))")
                #expect(logged.count == 3 && logged[1].userAgent.utf8.count <= 255)
            }
        }
    }

    /// Cleanup and the admin's attempt queries on PostgreSQL too.
    @Test(arguments: DemoFramework.allCases) func cleanupAndAdminQueriesOnPostgreSQL(_ framework: DemoFramework) async throws {
        try await withFreshPostgres { url in
            try await withDemo(["DATABASE_URL": url, "DEFENDER_USE_CELERY": "false"], on: framework) { (demo) async throws in
                try await demo.createUser("root", "rootpw", admin: true)
                let old = Date().addingTimeInterval(-86_400 * 2)
                for index in 0..<12 {
                    try await AccessAttempt(AccessAttemptRecord(
                        attemptTime: index < 7 ? old : Date(), username: "p\(index)", ipAddress: "2001:db8::\(index)", userAgent: "",
                        httpAccept: "", pathInfo: "/login", loginValid: index.isMultiple(of: 3))).create(on: demo.database)
                }
                #expect(try await AccessAttempt.deleteOlder(than: Date().addingTimeInterval(-86_400), batchSize: 3, on: demo.database) == 7)
                let auth: HTTPHeaders = ["Authorization": "Basic " + Data("root:rootpw".utf8).base64EncodedString()]
                let response = try await demo.send(.GET, "/admin/defender/api/attempts?ip=2001:db8::9&valid=true", headers: auth)
                let rows = try JSONDecoder().decode(AttemptsPage.self, from: Data(response.body.readableBytesView)).attempts
                #expect(rows.map(\.username) == ["p9"])
                #expect(try await demo.send(.GET, "/admin/defender?username=p10", headers: auth).text.contains("p10"))
            }
        }
    }

    @Test(arguments: DemoFramework.allCases) func inlineModeWritesBeforeAnswering(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_USE_CELERY": "false"], on: framework) { (demo) async throws in
            try await demo.login("alice", "wrong")
            #expect(try await AccessAttempt.query(on: demo.database).count() == 1)
        }
    }

    @Test(arguments: DemoFramework.allCases) func storeAccessAttemptsOffLogsNothing(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_STORE_ACCESS_ATTEMPTS": "false"], on: framework) { (demo) async throws in
            try await demo.login("alice", "wrong")
            try await demo.login("alice", "secret1")
            #expect(try await rows(demo).isEmpty)
        }
    }

    /// A full queue writes inline instead of dropping; flush and shutdown write what is queued.
    @Test(arguments: DemoFramework.allCases) func backpressureNeverDropsRows(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            let database = demo.database
            let log = FluentAccessLog(database: { database }, inBackground: true, capacity: 3, batchSize: 2)
            let record = AccessAttemptRecord(
                attemptTime: Date(), username: "x", ipAddress: "192.0.2.1", userAgent: "", httpAccept: "", pathInfo: "/login", loginValid: false)
            for _ in 0..<10 { await log.record(record) }  // no writer running: 3 queued, 7 inline
            #expect(log.pending == 3)
            #expect(try await AccessAttempt.query(on: database).count() == 7)
            await log.flush()  // writes the queue and goes on queueing
            #expect(try await AccessAttempt.query(on: database).count() == 10 && log.pending == 0)
            await log.record(record)
            #expect(log.pending == 1)
            await log.shutdown()
            #expect(try await AccessAttempt.query(on: database).count() == 11)
            await log.record(record)  // after shutdown: inline
            #expect(try await AccessAttempt.query(on: database).count() == 12)
        }
    }

    /// 500 logins against a real `defender-demo serve` (or `defender-demo-hummingbird serve`), then SIGTERM or
    /// SIGINT: exit status 0 and exactly 500 rows, none lost.
    @Test(arguments: DemoFramework.allCases, [SIGTERM, SIGINT])
    func fiveHundredLoginsThenASignal(_ framework: DemoFramework, signal: Int32) async throws {
        guard let executable = framework.executable() else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("demo.sqlite").path
        let env = [
            "DATABASE_URL": "sqlite://" + file, "DEMO_BCRYPT_COST": "4", "DEFENDER_LOGIN_FAILURE_LIMIT": "100000",
            "DEFENDER_BEHIND_REVERSE_PROXY": "true",
        ]
        try await DemoProcess.runToEnd(executable, ["create-user", "alice", "secret1"], environment: env)
        let demo = try await DemoProcess(executable, environment: env)
        var statuses: [Int] = []
        for chunk in 0..<10 {
            statuses += try await HTTPStorm.run((0..<50).map { index in
                let n = chunk * 50 + index
                return .login(demo.base, n.isMultiple(of: 2) ? "alice" : "user\(n)", n.isMultiple(of: 2) ? "secret1" : "wrong", from: "198.51.100.\(n % 200)")
            })
        }
        #expect(statuses.count(of: 302) == 250 && statuses.count(of: 401) == 250)
        #expect(demo.stop(signal: signal) == 0)
        try await withApp { (app) async throws in
            app.databases.use(.sqlite(.file(file)), as: .sqlite)
            #expect(try await AccessAttempt.query(on: app.db).count() == 500)
            #expect(try await AccessAttempt.query(on: app.db).filter(\.$loginValid == true).count() == 250)
            #expect(try await AccessAttempt.query(on: app.db).filter(\.$username == "alice").count() == 250)
        }
    }
}
