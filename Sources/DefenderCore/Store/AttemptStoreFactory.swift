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
    /// - Returns: the store, and what closes the resources it holds (connections) when the application stops.
    /// - Throws: ``DefenderError`` with ``DefenderError/Code/invalidConfiguration`` for a setting it cannot use (the
    ///   message names the variable and never echoes a password).
    func makeStore(configuration: DefenderConfiguration, fallbackClock: any DefenderClock, metrics: DefenderMetrics?) throws -> BuiltStore
}

/// A store built by an ``AttemptStoreFactory`` and how to close it.
public struct BuiltStore: Sendable {
    /// The store.
    public let store: any AttemptStore
    /// Closes what the store holds; called once, when the application stops.
    public let close: @Sendable () async -> Void

    /// - Parameters:
    ///   - store: the store.
    ///   - close: closes what the store holds.
    public init(store: any AttemptStore, close: @escaping @Sendable () async -> Void = {}) {
        self.store = store
        self.close = close
    }
}
