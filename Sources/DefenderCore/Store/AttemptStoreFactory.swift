import ServiceLifecycle

/// Builds the store a configuration names (``DefenderConfiguration/store``, `DEFENDER_STORE`), so that a framework
/// integration can honour `DEFENDER_STORE=redis` without depending on the Redis module: `DefenderRedis` provides
/// `RedisStoreFactory`, and the app hands it to its integration (`app.defender.use(.automatic(RedisStoreFactory()))`
/// in Vapor).
public protocol AttemptStoreFactory: Sendable {
    /// The `DEFENDER_STORE` value this factory builds.
    var kind: StoreKind { get }

    /// Builds the store for `configuration`.
    /// - Parameters:
    ///   - configuration: validated settings.
    ///   - fallbackClock: the clock of the in-memory store used while a shared store is down.
    ///   - metrics: where the store's errors and fallback state are counted.
    /// - Returns: the store, and the services that hold and finally close its resources (connections).
    /// - Throws: ``DefenderError`` with ``DefenderError/Code/invalidConfiguration`` for a setting it cannot use (the
    ///   message names the variable and never echoes a password).
    func makeStore(configuration: DefenderConfiguration, fallbackClock: any DefenderClock, metrics: DefenderMetrics?) throws -> BuiltStore
}

/// A store built by an ``AttemptStoreFactory`` and the long-lived work it needs.
public struct BuiltStore: Sendable {
    /// The store.
    public let store: any AttemptStore
    /// What runs for the application's lifetime and closes what the store holds on graceful shutdown (the Redis
    /// client). An integration runs them before its other services, so that they stop last.
    public let services: [any Service]

    /// - Parameters:
    ///   - store: the store.
    ///   - services: the store's long-lived work (its connections), run by the integration.
    public init(store: any AttemptStore, services: [any Service] = []) {
        self.store = store
        self.services = services
    }
}
