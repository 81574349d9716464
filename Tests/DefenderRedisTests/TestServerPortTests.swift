import DefenderTesting
import Foundation
import Testing

/// The test servers' start-up must not mistake another server on the same port for their own: a cluster test
/// once joined a plain redis-server of a parallel test into its cluster, because a connection to the port
/// succeeded after the new server had failed to bind it.
@Suite struct TestServerPortTests {
    @Test func aPortAnotherServerHoldsIsNotTakenForOurs() async throws {
        guard RedisServer.isAvailable else { return }
        let other = try await RedisServer()
        defer { other.stop() }
        // Our server cannot bind the port; a connection to it reaches `other`, which is not ours.
        await #expect(throws: (any Error).self) { try await RedisServer(["--cluster-enabled", "yes"], fixedPort: other.port) }
    }

    @Test func serversStartedTogetherGetDistinctPorts() async throws {
        guard RedisServer.isAvailable else { return }
        // Started at the same time, as parallel tests start theirs.
        let servers = try await withThrowingTaskGroup(of: RedisServer.self) { group in
            for _ in 0..<8 { group.addTask { try await RedisServer() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { servers.forEach { $0.stop() } }
        #expect(Set(servers.map(\.port)).count == servers.count)
        // Below the kernel's ephemeral range, which it hands out to outgoing connections and port-0 servers itself.
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let ephemeral = max(20_000, range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768)
        #expect(servers.allSatisfy { $0.port >= 10_000 && $0.port < ephemeral }, "\(servers.map(\.port))")
    }

    /// The test runner's threads block SIGTERM, and a spawned child inherits the mask: a server that ignored
    /// SIGTERM was SIGKILLed after the two-second wait, on every stop of every test.
    @Test func aServerStopsOnSIGTERM() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        #expect(server.stop())
    }
}
