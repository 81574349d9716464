import DefenderCore
import Foundation
import Synchronization

/// A Redis Cluster of a test's own: cluster-enabled redis-servers on free loopback ports, joined by
/// `redis-cli --cluster create` (no replicas), each stopped by its PID.
public final class TestRedisCluster: Sendable {
    /// The primaries (a node `restart(node:)` started again replaces the one it killed).
    public var nodes: [RedisServer] { current.withLock { $0 } }
    /// With TLS: the PEM file of the certificate the nodes present (and the CA that signed it).
    public let certificate: String?
    private let current: Mutex<[RedisServer]>
    /// `redis-cli`'s TLS options, with TLS.
    private let cliTLS: [String]

    /// Starts `primaries` servers, creates the cluster and waits until every node reports `cluster_state:ok`.
    /// - Parameters:
    ///   - primaries: how many nodes.
    ///   - tls: a certificate and its key (PEM files): the nodes then listen with TLS only, clients and cluster bus.
    ///   - arguments: more arguments for every node (`--appendonly yes`).
    public init(primaries: Int = 3, tls: (certificate: String, key: String)? = nil, arguments: [String] = []) async throws {
        let tlsArguments = tls.map {
            ["--tls-cert-file", $0.certificate, "--tls-key-file", $0.key, "--tls-ca-cert-file", $0.certificate, "--tls-auth-clients", "no",
             "--tls-cluster", "yes"]
        } ?? []
        var nodes: [RedisServer] = []
        for _ in 0..<primaries { nodes.append(try await Self.node(tlsArguments + arguments, tls: tls != nil)) }
        current = Mutex(nodes)
        certificate = tls?.certificate
        cliTLS = tls.map { ["--tls", "--cacert", $0.certificate] } ?? []
        do {
            let create = try await ServerProcess.run(
                try Self.cli(),
                cliTLS + ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "0", "--cluster-yes"],
                environment: [:])
            guard create.status == 0 else { throw DefenderError(.storeUnavailable, "redis-cli --cluster create failed: \(create.output)") }
            try await waitUntilReady()
        } catch {
            for node in nodes { node.stop() }
            throw error
        }
    }

    /// Waits until every node reports `cluster_state:ok` (ten seconds at most).
    /// - Throws: when one never does.
    public func waitUntilReady() async throws {
        for node in nodes {
            var ready = false
            for _ in 0..<100 where !ready {
                ready = try await ServerProcess.run(try Self.cli(), cliTLS + ["-p", String(node.port), "CLUSTER", "INFO"], environment: [:])
                    .output.contains("cluster_state:ok")
                if !ready { try await Task.sleep(for: .milliseconds(100)) }
            }
            guard ready else { throw DefenderError(.storeUnavailable, "cluster node \(node.port) never reported cluster_state:ok") }
        }
    }

    /// Kills node `index` (SIGKILL) and starts it again on its port, directory and arguments (`RedisServer/restart()`):
    /// it comes back with its node id and slots (its `nodes.conf`) and, with `--appendonly yes`, its data. Does not
    /// wait for the cluster to be ready again (`waitUntilReady()`).
    public func restart(node index: Int) async throws {
        let restarted = try await nodes[index].restart()
        current.withLock { $0[index] = restarted }
    }

    /// One cluster-enabled node, with its cluster bus on a free port of its own. Left to itself, a node's bus is
    /// its port + 10,000: taken by another server, or past 65,535 for a port above 55,535, so the node listened on
    /// its port and then exited on the bus's bind — after the start had been seen, so `--cluster create` met a
    /// refused connection. The node counts as started once it listens on both.
    static func node(_ tlsArguments: [String], tls: Bool) async throws -> RedisServer {
        for _ in 0..<5 {
            let bus = LoopbackPort.fresh()
            // A bus port taken by someone else makes every start on it exit at once: try another bus port.
            guard let node = try? await RedisServer(
                ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000", "--cluster-port", String(bus)]
                    + tlsArguments,
                tlsPort: tls)
            else { continue }
            if await LoopbackPort.waitUntilListening(bus, process: node.process) { return node }
            node.stop()
        }
        throw DefenderError(.storeUnavailable, "no cluster node started with its bus listening (five tries)")
    }

    /// `redis-cluster://127.0.0.1:P` with the nodes at `seeds` (indexes) as seeds; with TLS
    /// `rediss-cluster://…?ssl_ca_certs=…&ssl_server_name=localhost`.
    public func url(seeds: [Int] = [0]) -> String {
        let hosts = seeds.map { "127.0.0.1:\(nodes[$0].port)" }.joined(separator: ",")
        guard let certificate else { return "redis-cluster://" + hosts }
        return "rediss-cluster://\(hosts)?ssl_ca_certs=\(certificate)&ssl_server_name=localhost"
    }

    /// Stops every node.
    public func stop() {
        for node in nodes { node.stop() }
    }

    static func cli() throws -> URL {
        for path in ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw DefenderError(.storeUnavailable, "redis-cli is not installed (scripts/test installs redis-server, which brings it)")
    }
}
