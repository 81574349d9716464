import DefenderCore
import ServiceLifecycle
import NIOCore
import NIOPosix

/// Builds the Redis store for `DEFENDER_STORE=redis`: a client for `DEFENDER_REDIS_URL` (or the app's own client),
/// the shared store, and the outage policy around it (`DefenderConfiguration/storeFailurePolicy`: while Redis is down
/// this instance falls back to its bounded memory store, or opens, or refuses).
///
/// ```swift
/// app.defender.use(.automatic(RedisStoreFactory()))   // memory or Redis, as DEFENDER_STORE says
/// ```
public struct RedisStoreFactory: AttemptStoreFactory {
    /// `StoreKind/redis`.
    public var kind: StoreKind { .redis }
    /// A URL that replaces `DefenderConfiguration/redisURL`; `nil` uses the configuration's.
    public var url: String? { urlText?.value }
    /// ``url``'s storage: it dumps and prints with the URL's password hidden.
    let urlText: ConcealedText?
    /// The app's own client, when it brings one: then no URL is read and no connection of Defender's is opened.
    let appClient: (any RedisScriptExecutor)?
    let eventLoopGroup: any EventLoopGroup

    /// - Parameters:
    ///   - url: a `redis://`, `rediss://` or `unix://` URL to use instead of `DEFENDER_REDIS_URL`.
    ///   - eventLoopGroup: where the connections run (Vapor: `app.eventLoopGroup`).
    public init(url: String? = nil, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.urlText = url.map { ConcealedText($0, concealing: .url) }
        self.appClient = nil
        self.eventLoopGroup = eventLoopGroup
    }

    /// A factory over the app's own Redis client (RediStack, valkey-swift, … behind ``RedisScriptExecutor``):
    /// `DEFENDER_REDIS_URL` is not read, and the app runs and shuts down its client itself.
    /// - Parameter client: the app's client.
    public init(client: any RedisScriptExecutor) {
        self.urlText = nil
        self.appClient = client
        self.eventLoopGroup = MultiThreadedEventLoopGroup.singleton
    }

    public func makeStore(configuration: DefenderConfiguration, fallbackClock: any DefenderClock, metrics: DefenderMetrics?) throws -> BuiltStore {
        let fallback = MemoryAttemptStore(capacity: configuration.memoryMaxEntries, clock: fallbackClock)
        if let appClient {
            let redis = RedisAttemptStore(client: appClient, prefix: configuration.cachePrefix, historyWindow: configuration.accessAttemptExpiration)
            let store = FallbackAttemptStore(primary: redis, fallback: fallback, policy: configuration.storeFailurePolicy, metrics: metrics)
            return BuiltStore(store: store, services: [redis.invalidations])
        }
        let redisConfiguration = try RedisConfiguration(url: url ?? configuration.redisURL)
        let client = RedisClient(configuration: redisConfiguration, eventLoopGroup: eventLoopGroup)
        let redis = RedisAttemptStore(client: client, prefix: configuration.cachePrefix, historyWindow: configuration.accessAttemptExpiration)
        let store = FallbackAttemptStore(primary: redis, fallback: fallback, policy: configuration.storeFailurePolicy, metrics: metrics)
        // The client first: services stop in reverse order, so the block cache's listener stops before the client.
        var services: [any Service] = [client, redis.invalidations]
        if let metrics { services.append(RedisTopologyMetrics(client: client, metrics: metrics)) }
        return BuiltStore(store: store, services: services)
    }
}
