import NIOConcurrencyHelpers
import Vapor

extension DefenderSupport.Provider {
    /// The store `DEFENDER_STORE` names: `memory` for `memory` (or `DEFENDER_MOCK_REDIS`), else the factory of
    /// that kind among `factories` — `DefenderRedis`' `RedisStoreFactory()` for `redis`. This module does not link
    /// Redis: an app that may run on Redis passes the factory (`app.defender.use(.automatic(RedisStoreFactory()))`).
    /// A setting that names a store none of them builds stops start-up with a message saying so.
    public static func automatic(_ factories: any AttemptStoreFactory...) -> Self {
        Self(built: { app, config in
            try DefenderRuntime.store(for: config, factories: factories, clock: app.defender.clock, metrics: app.defender.metrics)
        })
    }

    /// The default: `automatic(_:)` with no factory, so the memory store, and a clear start-up error for
    /// `DEFENDER_STORE=redis`.
    public static var automatic: Self { automatic() }

    /// Always the store `factory` builds, whatever `DEFENDER_STORE` says (such as `RedisStoreFactory(url:)`).
    public static func factory(_ factory: any AttemptStoreFactory) -> Self {
        Self(built: { app, config in
            try factory.makeStore(configuration: config, fallbackClock: app.defender.clock, metrics: app.defender.metrics)
        })
    }
}

extension DefenderSupport {
    /// The store's health, for a health endpoint.
    public func health() throws -> DefenderHealth {
        DefenderHealth(of: try engine())
    }
}
