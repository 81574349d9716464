import DefenderTesting
import Foundation
import Testing

/// The store a demo test runs on: the demos' default memory store, or the shared Redis of `scripts/test`.
enum DemoStore: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, redis

    var testDescription: String { rawValue }

    /// `settings` behind a trusted proxy (so tests choose the client address) on this store, under a fresh key prefix
    /// on Redis; `nil` when it is Redis and there is none (`SharedRedis` fails the test under CI).
    func environment(_ settings: [String: String] = [:], prefix: String) async -> [String: String]? {
        var env = settings.merging(["DEFENDER_BEHIND_REVERSE_PROXY": "true"]) { current, _ in current }
        if self == .redis {
            guard let url = await SharedRedis.url else { return nil }
            env["DEFENDER_STORE"] = "redis"
            env["DEFENDER_REDIS_URL"] = url
            env["DEFENDER_CACHE_PREFIX"] = "\(prefix)-\(UUID().uuidString)"
        }
        return env
    }
}

/// A fresh SQLite file with the demo's tables (and the user alice), and the environment to reach it, for tests that
/// run the demo's executable (its commands, or `serve`).
func withDemoFiles(
    _ framework: DemoFramework, _ extra: [String: String] = [:], _ test: (URL, [String: String], String) async throws -> Void
) async throws {
    guard let executable = framework.executable() else { return }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-cmd-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("demo.sqlite").path
    var env = ["DATABASE_URL": "sqlite://" + file, "DEMO_BCRYPT_COST": "4"]
    env.merge(extra) { $1 }
    try await DemoProcess.runToEnd(executable, ["create-user", "alice", "secret1"], environment: env)
    try await test(executable, env, file)
}
