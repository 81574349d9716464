import DefenderTesting
import Testing

/// The test servers' start-up must not mistake another server on the same port for their own: a cluster test
/// once joined a plain redis-server of a parallel test into its cluster, because a connection to the port
/// succeeded after the new server had failed to bind it.
@Suite struct TestServerPortTests {
    @Test func aPortAnotherServerHoldsIsNotTakenForOurs() throws {
        guard RedisServer.isAvailable else { return }
        let other = try RedisServer()
        defer { other.stop() }
        // Our server cannot bind the port; a connection to it reaches `other`, which is not ours.
        #expect(throws: (any Error).self) { try RedisServer(["--cluster-enabled", "yes"], fixedPort: other.port) }
    }

    @Test func serversStartedTogetherGetDistinctPorts() throws {
        guard RedisServer.isAvailable else { return }
        let servers = try (0..<8).map { _ in try RedisServer() }
        defer { servers.forEach { $0.stop() } }
        #expect(Set(servers.map(\.port)).count == servers.count)
    }

    /// The test runner's threads block SIGTERM, and a spawned child inherits the mask: a server that ignored
    /// SIGTERM was SIGKILLed after the two-second wait, on every stop of every test.
    @Test func aServerStopsOnSIGTERM() throws {
        guard RedisServer.isAvailable else { return }
        let server = try RedisServer()
        #expect(server.stop())
    }
}
