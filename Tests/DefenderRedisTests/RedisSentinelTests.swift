import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// Redis behind Sentinel, with real servers: a primary, a replica and three Sentinels of the test's own on loopback,
/// and a failover made by killing the primary.
@Suite(.serialized) struct RedisSentinelTests {
    /// A command to one server, outside the client under test.
    func command(_ port: Int, _ arguments: [String]) async throws -> RESPValue { try await serverCommand(port, arguments) }

    func info(_ port: Int, _ section: String) async throws -> String {
        try await command(port, ["INFO", section]).string ?? ""
    }

    @Test func followsAFailoverWithoutA5xxAndNeverWritesToTheDemotedPrimary() async throws {
        guard RedisServer.isAvailable else { return }
        let group = try await TestRedisSentinel()
        defer { group.stop() }
        let primary = group.primary
        let replica = group.replica
        var configuration = try RedisConfiguration(url: group.url)
        configuration.connectTimeout = .milliseconds(300)
        configuration.initialBackoff = .milliseconds(50)
        configuration.maximumBackoff = .milliseconds(200)
        if case .sentinel(var settings) = configuration.topology {
            settings.checkInterval = .milliseconds(300)
            configuration.topology = .sentinel(settings)
        }
        let client = RedisClient(configuration: configuration)
        let services = ServiceGroup(configuration: .init(services: [client], logger: Logger(label: "sentinel-test")))
        let running = Task { try await services.run() }
        defer { running.cancel() }
        let prefix = "sentinel-\(UUID().uuidString.prefix(8))"
        let redis = RedisAttemptStore(client: client, prefix: prefix)
        let store = FallbackAttemptStore(primary: redis, fallback: MemoryAttemptStore(), policy: .fallback, retryInterval: .milliseconds(100))
        let engine = Defender(configuration: DefenderConfiguration(), store: store)

        // A lockout made on the first primary, replicated before the crash.
        let steps = (0..<4).map { _ in LoginStep("10.1.1.1", "mallory", expect: .failure) }
        #expect(try await engine.run(steps) == [.failure, .failure, .failure, .lockedOut])
        #expect(client.primary == .tcp(host: "127.0.0.1", port: primary.port))
        _ = try await command(primary.port, ["WAIT", "1", "2000"])
        primary.crash()

        // Logins go on through the failover: the outage policy answers until Sentinel promotes the replica,
        // then the new primary does, with no restart.
        var answered = 0
        let promoted = try await eventually(within: .seconds(30), every: .milliseconds(100)) {
            _ = try await engine.login(ip: "10.1.1.9", username: "bob", correctPassword: true)
            answered += 1
            return client.primary == .tcp(host: "127.0.0.1", port: replica.port) && !store.isDegraded
        }
        #expect(promoted, "the replica was not promoted and used")
        #expect(answered > 0)
        #expect(try await engine.login(ip: "10.1.1.1", username: "mallory", correctPassword: true) == .refused)
        #expect(redis.topology == StoreTopology(kind: "sentinel", primary: "127.0.0.1:\(replica.port)"))
        #expect(try await engine.login(ip: "10.1.1.2", username: "carol", correctPassword: false) == .failure)
        #expect(try await command(replica.port, ["GET", "\(prefix):failed:username:carol"]).string == "1")

        // The old primary comes back (Sentinel turns it into a replica): nothing of ours connects to it.
        let restarted = try await RedisServer(["--replicaof", "127.0.0.1", String(replica.port)], fixedPort: primary.port)
        defer { restarted.stop() }
        for attempt in 0..<10 { _ = try await engine.login(ip: "10.1.1.3", username: "dave\(attempt)", correctPassword: false) }
        let clients = try await command(restarted.port, ["CLIENT", "LIST"]).string ?? ""
        #expect(!clients.contains("name=defender"))
        #expect(try await info(restarted.port, "commandstats").contains("cmdstat_evalsha") == false)
        await services.triggerGracefulShutdown()
        try await running.value
    }

    /// Servers and Sentinels with passwords of their own: the URL's password is the servers', `sentinel_password=`
    /// the Sentinels'; neither is ever printed.
    @Test func passwordsForTheServersAndForTheSentinels() async throws {
        guard RedisServer.isAvailable else { return }
        let group = try await TestRedisSentinel(password: "data-pw", sentinelPassword: "watch-pw")
        defer { group.stop() }
        let url = group.url.replacingOccurrences(of: "redis-sentinel://", with: "redis-sentinel://:data-pw@") + "&sentinel_password=watch-pw"
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { Task { await client.shutdown() } }
        let engine = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: client, prefix: "auth"))
        #expect(try await engine.login(ip: "10.1.2.1", username: "u", correctPassword: false) == .failure)
        #expect(client.primary == .tcp(host: "127.0.0.1", port: group.primary.port))
        #expect(!client.configuration.description.contains("pw"))

        // Without the Sentinels' password no primary can be found: an outage that names the Sentinels, not a secret.
        let without = RedisClient(configuration: try RedisConfiguration(url: url.replacingOccurrences(of: "&sentinel_password=watch-pw", with: "")))
        defer { Task { await without.shutdown() } }
        let error = await #expect(throws: RedisError.self) { _ = try await without.send(["PING"]) }
        #expect(error?.isUnavailable == true && error?.message.contains("pw") == false, "\(String(describing: error))")
    }

    /// `rediss-sentinel://`: Sentinels and servers with TLS only; the Sentinels, the primary and the `ROLE` check all
    /// over TLS, with the throw-away CA trusted by URL.
    @Test func overTLS() async throws {
        guard RedisServer.isAvailable else { return }
        let certificates = try TestCertificates()
        let group = try await TestRedisSentinel(tls: (certificates.certificate, certificates.key))
        defer { group.stop() }
        let client = RedisClient(configuration: try RedisConfiguration(url: group.url))
        defer { Task { await client.shutdown() } }
        let engine = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: client, prefix: "tls"))
        let steps = (0..<4).map { _ in LoginStep("10.1.3.1", "mallory", expect: .failure) }
        #expect(try await engine.run(steps) == [.failure, .failure, .failure, .lockedOut])
        #expect(client.primary == .tcp(host: "127.0.0.1", port: group.primary.port))
    }

    /// A primary that Sentinel still names but that is a replica by now is refused by the handshake's `ROLE`.
    @Test func refusesAReplicaNamedAsThePrimary() async throws {
        guard RedisServer.isAvailable else { return }
        let primary = try await RedisServer()
        defer { primary.stop() }
        let replica = try await RedisServer(["--replicaof", "127.0.0.1", String(primary.port)])
        defer { replica.stop() }
        var target = RedisConfiguration(host: "127.0.0.1", port: replica.port)
        target.connectTimeout = .milliseconds(300)
        let error = await #expect(throws: RedisError.self) {
            _ = try await RedisConnection.connect(to: target, requirePrimary: true)
        }
        #expect(error?.code == .handshakeFailed && error?.message.contains("not the primary") == true)
        let connection = try await RedisConnection.connect(to: RedisConfiguration(host: "127.0.0.1", port: primary.port), requirePrimary: true)
        await connection.close()
    }

    /// No Sentinel answering is an outage (the failure policy applies), and says which Sentinels were asked.
    @Test func noSentinelIsAnOutage() async throws {
        var configuration = try RedisConfiguration(url: "redis-sentinel://127.0.0.1:1,127.0.0.1:2/0?master=m&sentinel_password=s3cret")
        configuration.connectTimeout = .milliseconds(200)
        let client = RedisClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        let error = await #expect(throws: RedisError.self) { _ = try await client.send(["PING"]) }
        #expect(error?.isUnavailable == true)
        #expect(error?.message.contains("127.0.0.1:1") == true && error?.message.contains("s3cret") == false)
    }
}
