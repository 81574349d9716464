import FluentKit
import FluentPostgresDriver
import FluentSQL
import Foundation
import Logging
import NIOPosix
import Testing

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
        let databases = Databases(threadPool: NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await databases.shutdownAsync() } }
        databases.use(try .postgres(url: base), as: .psql)
        let database = try #require(databases.database(logger: Logger(label: "test"), on: databases.eventLoopGroup.any()) as? any SQLDatabase)
        try await database.raw(SQLQueryString(sql)).run()
    }
    try await admin("CREATE DATABASE \(name)")
    guard let slash = base.lastIndex(of: "/") else { return }
    do {
        try await body(base[..<slash] + "/" + name)
    } catch {
        try? await admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        throw error
    }
    try await admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
}
