import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Testing

/// A plain `redis://` (or `unix://`) URL behind a name that follows the primary (a cloud primary endpoint, a
/// Kubernetes Service, a DNS record): after a failover the old connections reach the demoted server, which answers
/// `READONLY`. The client then connects again, by the name, to the new primary, with no restart — it once kept
/// the old connections, and the store stayed on this instance's memory until the app was restarted.
@Suite(.serialized) struct RedisReadOnlyReconnectTests {
    @Test func aDemotedServerSendsTheClientToTheNameAgain() async throws {
        guard RedisServer.isAvailable else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-failover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (oldSocket, newSocket, name) = ["old.sock", "new.sock", "primary.sock"].map { directory.appendingPathComponent($0).path }.triple
        let old = try await RedisServer(["--unixsocket", oldSocket, "--unixsocketperm", "700"])
        defer { old.stop() }
        let new = try await RedisServer(["--unixsocket", newSocket, "--unixsocketperm", "700"])
        defer { new.stop() }
        try FileManager.default.createSymbolicLink(atPath: name, withDestinationPath: oldSocket)

        let prefix = "failover-\(UUID().uuidString)"
        let redis = RedisAttemptStore(client: RedisClient(configuration: try RedisConfiguration(url: "unix://\(name)")), prefix: prefix)
        let store = FallbackAttemptStore(primary: redis, fallback: MemoryAttemptStore(), policy: .fallback, retryInterval: .milliseconds(100))
        let engine = Defender(configuration: DefenderConfiguration(), store: store)
        #expect(try await engine.login(ip: "10.41.0.1", username: "alice", correctPassword: false) == .failure)

        // The failover: the old server becomes a replica (it refuses writes), and the name moves to the new one.
        _ = try await serverCommand(old.port, ["REPLICAOF", "127.0.0.1", "1"])
        let moving = directory.appendingPathComponent("moving.sock").path
        try FileManager.default.createSymbolicLink(atPath: moving, withDestinationPath: newSocket)
        guard rename(moving, name) == 0 else { throw DefenderError(.storeUnavailable, "could not move the name") }

        for attempt in 1...3 {
            #expect(try await engine.login(ip: "10.41.0.\(attempt + 1)", username: "bob", correctPassword: false) == .failure)
        }
        #expect(!store.isDegraded, "the store stayed on this instance's memory")
        let onNew = RedisAttemptStore(client: RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: new.port)), prefix: prefix)
        #expect(try await onNew.state(of: engine.usernameKey("bob")).failures == 3)
    }
}

extension Array {
    /// The first three elements (a test's three paths).
    fileprivate var triple: (Element, Element, Element) { (self[0], self[1], self[2]) }
}
