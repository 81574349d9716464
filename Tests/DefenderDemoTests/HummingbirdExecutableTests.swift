import AsyncHTTPClient
import DefenderCore
import DefenderDemoSupport
import NIOHTTP1
import DefenderFluent
import DefenderHummingbirdDemoApp
import DefenderTesting
import FluentKit
import Foundation
import Testing

/// `defender-demo-hummingbird` as an operator runs it: `create-user`, the `defender` commands,
/// and a bad setting.
@Suite(.serialized) struct HummingbirdExecutableTests {
    static func executable() -> URL? { ServerProcess.executable(named: "defender-demo-hummingbird") }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        try await ServerProcess.run(executable, arguments, environment: environment)
    }

    func withDirectory(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-hb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory.appendingPathComponent("demo.sqlite").path)
    }

    /// `create-user` adds a user once: a name that differs only in case is refused with one line and exit 1.
    /// (`serve` and its shutdown by SIGTERM and SIGINT: `DemoAuditLogTests.fiveHundredLoginsThenASignal`.)
    @Test func createUserRefusesADuplicate() async throws {
        guard let executable = Self.executable() else { return }
        try await withDirectory { file in
            let env = ["DATABASE_URL": "sqlite://" + file, "DEMO_BCRYPT_COST": "4"]
            let created = try await Self.run(executable, ["create-user", "alice", "secret1"], environment: env)
            #expect(created.status == 0 && created.output.contains("Created user alice."), "\(created.output)")
            let duplicate = try await Self.run(executable, ["create-user", "Alice", "other"], environment: env)
            #expect(duplicate.status == 1 && duplicate.output.hasPrefix("defender-demo-hummingbird: "), "\(duplicate.output)")
        }
    }

    /// The operator commands: refused with the memory store (its state lives in the server), working on Redis,
    /// and the stored deny list in the database.
    @Test func operatorCommands() async throws {
        guard let executable = Self.executable() else { return }
        try await withDirectory { file in
            let memory = ["DATABASE_URL": "sqlite://" + file]
            let refused = try await Self.run(executable, ["defender", "blocks"], environment: memory)
            #expect(refused.status == 1 && refused.output.contains("DEFENDER_STORE=redis"), "\(refused.output)")
            let denied = try await Self.run(executable, ["defender", "deny", "203.0.113.0/24", "--note", "scanner"], environment: memory)
            #expect(denied.status == 0, "\(denied.output)")
            let list = try await Self.run(executable, ["defender", "denylist", "--json"], environment: memory)
            #expect(list.output.contains("203.0.113.0/24") && list.output.contains("scanner"), "\(list.output)")
            let cleanup = try await Self.run(executable, ["defender", "cleanup"], environment: memory)
            #expect(cleanup.status == 0, "\(cleanup.output)")
            let undenied = try await Self.run(executable, ["defender", "undeny", "203.0.113.0/24"], environment: memory)
            #expect(undenied.status == 0, "\(undenied.output)")
            let emptied = try await Self.run(executable, ["defender", "denylist", "--json"], environment: memory)
            #expect(!emptied.output.contains("203.0.113.0/24"), "\(emptied.output)")
            let admin = try await Self.run(executable, ["create-user", "boss", "bosspw1", "--admin"], environment: memory)
            #expect(admin.status == 0, "\(admin.output)")
            let again = try await Self.run(executable, ["create-user", "boss", "other"], environment: memory)
            #expect(again.status != 0, "\(again.output)")

            guard let url = await SharedRedis.url else {
                if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("no Redis: run the tests with scripts/test") }
                return
            }
            let redis = memory.merging(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": url, "DEFENDER_CACHE_PREFIX": "hbcmd-\(UUID().uuidString)"]) { $1 }
            let blocked = try await Self.run(executable, ["defender", "block", "--username", "mallory", "--seconds", "60"], environment: redis)
            #expect(blocked.status == 0, "\(blocked.output)")
            let blocks = try await Self.run(executable, ["defender", "blocks", "--json"], environment: redis)
            #expect(blocks.output.contains(#""username":"mallory""#), "\(blocks.output)")
            let unblocked = try await Self.run(executable, ["defender", "unblock", "--username", "mallory"], environment: redis)
            #expect(unblocked.status == 0, "\(unblocked.output)")
            let none = try await Self.run(executable, ["defender", "blocks", "--json"], environment: redis)
            #expect(none.output.contains(#""usernames":[]"#), "\(none.output)")
            let neither = try await Self.run(executable, ["defender", "block"], environment: redis)
            #expect(neither.status == 1, "\(neither.output)")
        }
    }

    @Test func badSettingStopsStartUp() async throws {
        guard let executable = Self.executable() else { return }
        let result = try await Self.run(executable, ["serve"], environment: ["DEFENDER_LOGIN_FAILURE_LIMIT": "many", "DATABASE_URL": "sqlite::memory:"])
        #expect(result.status == 1 && result.output.contains("DEFENDER_LOGIN_FAILURE_LIMIT"), "\(result.output)")
    }
}
