import DefenderCore
import ServiceLifecycle

/// Keeps `defender_redis_primaries` and `defender_redis_primary_changes_total` up to date: once a second it reads
/// what the client knows (the primary Sentinel named, the Cluster's slot map, the failovers and `MOVED`s followed).
final class RedisTopologyMetrics: Service {
    let client: RedisClient
    let metrics: DefenderMetrics
    let interval: Duration

    init(client: RedisClient, metrics: DefenderMetrics, interval: Duration = .seconds(1)) {
        self.client = client
        self.metrics = metrics
        self.interval = interval
    }

    func run() async {
        await cancelWhenGracefulShutdown { await self.sample() }
    }

    private func sample() async {
        var reported = 0
        while !Task.isCancelled {
            let primaries: Int
            switch client.configuration.topology {
            case .cluster: primaries = client.clusterPrimaries ?? 0
            default: primaries = client.primary == nil ? 0 : 1
            }
            let changes = client.primaryChanges + (client.clusterRedirections["MOVED"] ?? 0)
            metrics.recordRedisTopology(primaries: primaries, newChanges: changes - reported)
            reported = changes
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
