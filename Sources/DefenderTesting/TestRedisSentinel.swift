import DefenderCore
import Foundation
import Synchronization

/// Redis behind Sentinel, of a test's own: a primary, a replica of it and three Sentinels (quorum 2, down after
/// 1 s) on free loopback ports, each stopped by its PID. Ready when the replica is in sync and every Sentinel has
/// found the other two, so that killing the primary leads to a failover within seconds.
public final class TestRedisSentinel: Sendable {
    /// The name the Sentinels monitor the primary under.
    public let masterName: String
    /// The primary at start.
    public let primary: RedisServer
    /// Its replica, the one Sentinel promotes.
    public let replica: RedisServer
    /// The Sentinels.
    public let sentinels: [RedisServer]
    /// The servers' password.
    public let password: String?
    /// The Sentinels' own password.
    public let sentinelPassword: String?
    /// With TLS: the certificate every server and Sentinel presents (and the CA that signed it).
    public let certificate: String?

    /// Starts the servers and Sentinels, and waits until the group can fail over.
    /// - Parameters:
    ///   - masterName: the name the Sentinels monitor the primary under.
    ///   - password: the servers' password (`requirepass`, and `masterauth` for the replica), if any.
    ///   - sentinelPassword: the Sentinels' own password (`requirepass` in their configuration), if any.
    ///   - tls: a certificate and its key (PEM files): every server and Sentinel then listens with TLS only, and
    ///     replication and the Sentinels' links use TLS too.
    public init(
        masterName: String = "defender-test", password: String? = nil, sentinelPassword: String? = nil,
        tls: (certificate: String, key: String)? = nil
    ) async throws {
        self.masterName = masterName
        self.password = password
        self.sentinelPassword = sentinelPassword
        certificate = tls?.certificate
        let cliTLS = tls.map { ["--tls", "--cacert", $0.certificate] } ?? []
        let auth = (password.map { ["--requirepass", $0, "--masterauth", $0] } ?? []) + (tls.map {
            ["--tls-cert-file", $0.certificate, "--tls-key-file", $0.key, "--tls-ca-cert-file", $0.certificate, "--tls-auth-clients", "no",
             "--tls-replication", "yes"]
        } ?? [])
        let primary = try await RedisServer(auth, tlsPort: tls != nil)
        let replica = try await RedisServer(auth + ["--replicaof", "127.0.0.1", String(primary.port)], tlsPort: tls != nil)
        self.primary = primary
        self.replica = replica
        var started: [RedisServer] = []
        do {
            try await Self.wait("the replica to sync") {
                try await Self.cli(replica.port, cliTLS + ["INFO", "replication"], password: password).contains("master_link_status:up")
            }
            for _ in 0..<3 {
                started.append(try await RedisServer.sentinel(
                    monitoring: primary.port, masterName: masterName, serverPassword: password, ownPassword: sentinelPassword, tls: tls))
            }
            for sentinel in started {
                // Each knows the two others, exactly; a failure reports the count it saw, to tell a slow discovery
                // (fewer) from a stranger on the primary's hello channel (more).
                let seen = Mutex(-1)
                do {
                    try await Self.wait("the Sentinels to find each other") {
                        let count = try await Self.cli(sentinel.port, cliTLS + ["SENTINEL", "sentinels", masterName], password: sentinelPassword)
                            .components(separatedBy: "runid").count - 1
                        seen.withLock { $0 = count }
                        return count == 2
                    }
                } catch {
                    throw DefenderError(.storeUnavailable, "Sentinel \(sentinel.port) saw \(seen.withLock { $0 }) other Sentinels, not 2: \(error)")
                }
            }
        } catch {
            for server in started + [replica, primary] { server.stop() }
            throw error
        }
        sentinels = started
    }

    /// `redis-sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/0?master=NAME`; with TLS `rediss-sentinel://…` with
    /// `ssl_ca_certs` and `ssl_server_name=localhost`.
    public var url: String {
        let hosts = sentinels.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
        guard let certificate else { return "redis-sentinel://\(hosts)/0?master=\(masterName)" }
        return "rediss-sentinel://\(hosts)/0?master=\(masterName)&ssl_ca_certs=\(certificate)&ssl_server_name=localhost"
    }

    /// Stops every server.
    public func stop() {
        for server in sentinels + [replica, primary] { server.stop() }
    }

    /// Waits (up to 20 s) until the replica is the primary the Sentinels name.
    public func waitForPromotion() async throws {
        try await Self.wait("the replica to be promoted") {
            try await Self.cli(
                sentinels[0].port, (certificate.map { ["--tls", "--cacert", $0] } ?? []) + ["SENTINEL", "get-master-addr-by-name", masterName],
                password: sentinelPassword)
                .contains(String(replica.port))
        }
    }

    /// Runs `redis-cli -p PORT ARGS…` and returns what it printed.
    public static func cli(_ port: Int, _ arguments: [String], password: String? = nil) async throws -> String {
        // The password through the environment, as redis-cli reads it, never on a command line.
        try await ServerProcess.run(
            try TestRedisCluster.cli(), ["--no-auth-warning", "-p", String(port)] + arguments,
            environment: password.map { ["REDISCLI_AUTH": $0] } ?? [:]
        ).output
    }

    /// Polls `condition` every 100 ms for up to a minute. Sentinels find each other through hello messages sent
    /// every 2 s; on a test machine busy with a whole suite that took over 20 s once, so the wait is generous (it
    /// ends as soon as the condition holds).
    static func wait(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<600 {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DefenderError(.storeUnavailable, "timed out waiting for \(what)")
    }
}
