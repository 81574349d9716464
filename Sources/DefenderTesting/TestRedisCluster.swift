import DefenderCore
import Foundation

/// A Redis Cluster of a test's own: cluster-enabled redis-servers on free loopback ports, joined by
/// `redis-cli --cluster create` (no replicas), each stopped by its PID.
public final class TestRedisCluster: Sendable {
    /// The primaries.
    public let nodes: [RedisServer]

    /// Starts `primaries` servers, creates the cluster and waits until every node reports `cluster_state:ok`.
    public init(primaries: Int = 3) async throws {
        let nodes = try (0..<primaries).map { _ in
            try RedisServer(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"])
        }
        self.nodes = nodes
        do {
            let create = try await ServerProcess.run(
                try Self.cli(), ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "0", "--cluster-yes"],
                environment: [:])
            guard create.status == 0 else { throw DefenderError(.storeUnavailable, "redis-cli --cluster create failed: \(create.output)") }
            for node in nodes {
                var ready = false
                for _ in 0..<100 where !ready {
                    ready = try await ServerProcess.run(try Self.cli(), ["-p", String(node.port), "CLUSTER", "INFO"], environment: [:])
                        .output.contains("cluster_state:ok")
                    if !ready { try await Task.sleep(for: .milliseconds(100)) }
                }
                guard ready else { throw DefenderError(.storeUnavailable, "cluster node \(node.port) never reported cluster_state:ok") }
            }
        } catch {
            for node in nodes { node.stop() }
            throw error
        }
    }

    /// `redis-cluster://127.0.0.1:P` with the nodes at `seeds` (indexes) as seeds.
    public func url(seeds: [Int] = [0]) -> String {
        "redis-cluster://" + seeds.map { "127.0.0.1:\(nodes[$0].port)" }.joined(separator: ",")
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
