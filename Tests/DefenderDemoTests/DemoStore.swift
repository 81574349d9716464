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
