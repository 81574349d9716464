import FluentKit
import SQLKit
import Testing
import Vapor

/// A session cookie the server does not know — forged, or left from a deleted session — is answered with the
/// expired cookie and writes nothing, in both demos: no one can grow the sessions table without logging in, not
/// even from a locked address. (Vapor's sessions middleware, left alone, inserted one row per such request.)
@Suite struct ForgedSessionCookieTests {
    /// The demo's sessions table.
    static func sessionRows(_ demo: Demo) async throws -> Int {
        let table = demo.framework == .vapor ? "_fluent_sessions" : "demo_persist"
        let sql = try #require(demo.database as? any SQLDatabase)
        let row = try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()
        return try #require(row).decode(column: "n", as: Int.self)
    }

    @Test(arguments: DemoFramework.allCases)
    func forgedSessionCookiesWriteNothing(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { demo in
            // A real session first: the table holds it, and it is kept.
            let login = try await demo.post("/login", body: "username=alice&password=secret1", contentType: "application/x-www-form-urlencoded")
            #expect(login.status == .found)
            let before = try await Self.sessionRows(demo)
            #expect(before == 1)
            for index in 0..<10 {
                let forged: HTTPHeaders = ["Cookie": "defender-demo-session=forged\(index)"]
                let health = try await demo.send(.GET, "/healthz", headers: forged)
                #expect(health.status == .ok)
                let cookie = health.headers.first(name: .setCookie) ?? ""
                #expect(cookie.hasPrefix("defender-demo-session=;") && cookie.contains("1970"), "\(cookie)")
                // The login page and a refused login too (a wrong password, then a lockout for the address).
                _ = try await demo.send(.GET, "/login", headers: forged)
                _ = try await demo.post("/login", body: "username=mallory&password=x", contentType: "application/x-www-form-urlencoded", headers: forged)
            }
            #expect(try await Self.sessionRows(demo) == before)
        }
    }
}
