import DefenderRedis
import NIOConcurrencyHelpers
import Vapor

extension DefenderSupport.Provider {
    /// The store named by the configuration: ``memory`` for `DEFENDER_STORE=memory` (or `DEFENDER_MOCK_REDIS`),
    /// ``redis(url:)`` with `DEFENDER_REDIS_URL` for `DEFENDER_STORE=redis`. The default.
    public static var automatic: Self {
        Self { app, config in
            config.effectiveStore == .redis ? try redis(url: config.redisURL).makeStore(app, config) : try memory.makeStore(app, config)
        }
    }

    /// The shared Redis store, wrapped in the outage policy (``DefenderConfiguration/storeFailurePolicy``):
    /// while Redis is unreachable this instance falls back to its memory store (or opens, or refuses).
    /// The client is closed when the application shuts down.
    /// - Parameter url: a `redis://` or `rediss://` URL; the password is never logged.
    public static func redis(url: String) -> Self {
        Self { app, config in
            let configuration: RedisConfiguration
            do {
                configuration = try RedisConfiguration(url: url)
            } catch let error as RedisError {
                throw DefenderError(.invalidConfiguration, error.message, setting: "DEFENDER_REDIS_URL")
            }
            let client = RedisClient(configuration: configuration, eventLoopGroup: app.eventLoopGroup)
            app.lifecycle.use(RedisShutdown(client: client))
            let redis = RedisAttemptStore(client: client, prefix: config.cachePrefix, historyWindow: config.accessAttemptExpiration)
            let fallback = MemoryAttemptStore(capacity: config.memoryMaxEntries, clock: app.defender.clock)
            return FallbackAttemptStore(primary: redis, fallback: fallback, policy: config.storeFailurePolicy, metrics: app.defender.metrics)
        }
    }
}

/// Closes the Redis client with the application.
struct RedisShutdown: LifecycleHandler {
    let client: RedisClient

    func shutdownAsync(_ application: Application) async {
        await client.shutdown()
    }
}

/// What `/healthz` reports.
public struct DefenderHealth: Sendable, Equatable {
    /// `ok`, or `degraded` while the shared store is unreachable.
    public var status: String
    /// `memory` or `redis`.
    public var store: String
    /// Whether logins are refused now (`closed` policy during an outage): answer 503.
    public var refusingLogins: Bool
}

extension DefenderSupport {
    /// The store's health, for a health endpoint.
    public func health() throws -> DefenderHealth {
        let engine = try engine()
        let fallback = engine.store as? FallbackAttemptStore
        return DefenderHealth(
            status: fallback?.isDegraded == true ? "degraded" : "ok", store: engine.configuration.effectiveStore.description,
            refusingLogins: fallback?.isRefusingLogins ?? false)
    }
}
