import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A small pool of pipelined connections, with reconnection and a back-off that fails fast during an outage.
///
/// Commands go to the connections round-robin; a broken connection is replaced on next use. While the server
/// is unreachable, requests fail at once (no connect timeout each) until the back-off lapses, so a login never
/// waits on a dead Redis for longer than one connect timeout per back-off period.
///
/// It is a swift-service-lifecycle `Service`: in a `ServiceGroup` (or the Vapor integration's lifecycle) `run()`
/// keeps it open until graceful shutdown and then closes every connection.
public final class RedisClient: Service {
    /// The connection settings (the password is never printed).
    public let configuration: RedisConfiguration
    let eventLoopGroup: any EventLoopGroup
    private let state = Mutex(PoolState())
    /// With a `redis-sentinel://` configuration: where the primary is.
    let sentinel: SentinelLocator?
    /// With a `redis-cluster://` configuration: the slot map and a client per node.
    private let cluster: ClusterRouter?
    let primaryChangeCount = Atomic<Int>(0)

    private struct PoolState {
        var slots: [Slot] = []
        var next = 0
        var retryAt: ContinuousClock.Instant?
        var backoff: Duration = .zero
        var isShutDown = false
        /// Loaded by every new connection's handshake.
        var scripts: [RedisScript] = []

        func readyConnection() -> RedisConnection? {
            for slot in slots { if case .ready(let connection) = slot, connection.isActive { return connection } }
            return nil
        }
    }

    private enum Slot {
        case connecting(Task<RedisConnection, any Error>)
        case ready(RedisConnection)
    }

    /// Creates a client; connections are opened on first use.
    public init(configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        switch configuration.topology {
        case .sentinel(let settings):
            sentinel = SentinelLocator(settings, base: configuration)
            cluster = nil
        case .cluster(let seeds):
            sentinel = nil
            cluster = ClusterRouter(seeds: seeds, base: configuration, eventLoopGroup: eventLoopGroup)
        case .standalone:
            sentinel = nil
            cluster = nil
        }
    }

    /// With a Cluster, how many primaries serve slots in the map (0 before the first command); `nil` otherwise.
    public var clusterPrimaries: Int? { cluster?.knownPrimaries }

    /// With a Cluster, the redirections (`MOVED`, `ASK`) and retries (`TRYAGAIN`, `CLUSTERDOWN`) followed so far.
    @_spi(Internals) public var clusterRedirections: [String: Int] { cluster?.followed.withLock { $0 } ?? [:] }

    /// With Sentinel, the primary in use (`nil` while none is known); otherwise the configured endpoint.
    public var primary: RedisConfiguration.Endpoint? { sentinel.map(\.knownPrimary) ?? configuration.endpoint }

    /// Has every connection opened from now on load `scripts` in its handshake (`SCRIPT LOAD`), so that the first
    /// `EVALSHA` on it costs one round trip, not a `NOSCRIPT` and an `EVAL`.
    @_spi(Internals) public func preload(_ scripts: [RedisScript]) {
        cluster?.preload(scripts)
        state.withLock { state in
            for script in scripts where !state.scripts.contains(script) { state.scripts.append(script) }
        }
    }

    /// Sends a command on a pooled connection.
    /// - Throws: ``RedisError``: `serverError` for an error reply; `connectionFailed` or `timeout` when the
    ///   server cannot be reached (at once while backing off); `shutDown` after `shutdown()`.
    /// With a Cluster the command goes to the node of its first key (`arguments[1]`), or any node without one.
    @_spi(Internals) public func send(_ arguments: [String]) async throws -> RESPValue {
        if let cluster { return try await cluster.send(arguments) }
        let connection = try await connection()
        return try await connection.send(arguments)
    }

    /// Runs a script with `EVALSHA`, falling back to `EVAL` (which also caches it) when the server answers
    /// `NOSCRIPT` — after `SCRIPT FLUSH` or a restart.
    ///
    /// A `READONLY` reply means the server was demoted: the script did nothing there (write scripts declare it, so
    /// a replica refuses them whole), so the client closes its connections (with Sentinel it also forgets that
    /// server), connects again — resolving the URL's name anew: behind a name that follows the primary, no restart
    /// is needed — and runs the script once more.
    @_spi(Internals) public func run(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        if let cluster { return try await cluster.run(script, keys: keys, arguments: arguments) }
        do {
            return try await evaluate(script, keys: keys, arguments: arguments)
        } catch let error as RedisError where error.reply == .readOnly {
            sentinel?.forget(nil)
            await dropConnections()
            return try await evaluate(script, keys: keys, arguments: arguments)
        }
    }

    private func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        do {
            return try await send(script.command(keys: keys, arguments: arguments))
        } catch let error as RedisError where error.reply == .noScript {
            return try await send(script.command(keys: keys, arguments: arguments, withSource: true))
        }
    }

    /// Opens a connection of its own (to the primary, with Sentinel; to any node of a Cluster) subscribed to `channel`; each message's payload
    /// goes to `onMessage`, on the connection's event loop. The caller closes it.
    @_spi(Internals) public func openSubscription(to channel: String, onMessage: @escaping @Sendable (String) -> Void) async throws -> RedisConnection {
        let target = try await cluster?.nodeConfiguration(forKey: channel) ?? configuration
        let connection = try await Self.open(target, sentinel: sentinel, on: eventLoopGroup.any(), scripts: []) { push in
            // ["message", channel, payload]
            guard let parts = push.elements, parts.count == 3, parts[0].string == "message", let payload = parts[2].string else { return }
            onMessage(payload)
        }
        do {
            _ = try await connection.send(["SUBSCRIBE", channel])
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// With a Cluster, reads the slot map again soon (a subscription's node was lost: it may have failed over).
    func refreshClusterMap() {
        cluster?.refreshSoon()
    }

    /// Whether the client is backing off after a failed connection attempt.
    @_spi(Internals) public var isBackingOff: Bool {
        state.withLock { state in state.retryAt.map { ContinuousClock.now < $0 } ?? false }
    }

    /// Waits for graceful shutdown (or cancellation), then closes every connection with `shutdown()`. With
    /// Sentinel it meanwhile follows failovers: it listens for `+switch-master` on one Sentinel and asks them
    /// every `RedisConfiguration/Sentinel/checkInterval` as well, in case an announcement was missed.
    public func run() async {
        if let sentinel {
            await cancelWhenGracefulShutdown { await self.followFailovers(sentinel) }
        } else {
            try? await gracefulShutdown()
        }
        await shutdown()
    }

    /// Closes the pool's connections (new ones are opened on next use, at once: no back-off).
    func dropConnections() async {
        let slots = state.withLock { state in
            defer {
                state.slots = []
                state.retryAt = nil
                state.backoff = .zero
            }
            return state.slots
        }
        // Connections being opened are not cancelled (a connect does not stop half way): whoever waits for one
        // finds its slot gone, closes it and opens another.
        for slot in slots {
            if case .ready(let connection) = slot { await connection.close() }
        }
    }

    /// Closes every connection; later calls fail with `shutDown`.
    public func shutdown() async {
        await cluster?.shutdown()
        let slots = state.withLock { state in
            state.isShutDown = true
            defer { state.slots = [] }
            return state.slots
        }
        for slot in slots {
            switch slot {
            case .ready(let connection): await connection.close()
            case .connecting(let task): if let connection = try? await task.value { await connection.close() }
            }
        }
    }

    /// A new connection: to the configured server, or to the primary the Sentinels name (checked with `ROLE`).
    private static func open(
        _ configuration: RedisConfiguration, sentinel: SentinelLocator?, on eventLoop: any EventLoop, scripts: [RedisScript],
        onPush: (@Sendable (RESPValue) -> Void)? = nil
    ) async throws -> RedisConnection {
        guard let sentinel else {
            return try await RedisConnection.connect(to: configuration, on: eventLoop, scripts: scripts, onPush: onPush)
        }
        let primary = try await sentinel.primary(on: eventLoop)
        var target = configuration
        target.topology = .standalone
        target.endpoint = primary
        do {
            return try await RedisConnection.connect(to: target, on: eventLoop, scripts: scripts, requirePrimary: true, onPush: onPush)
        } catch {
            sentinel.forget(primary)
            throw error
        }
    }

    /// A ready connection of the pool: a live one round-robin, or one opened now (waiting for one being opened).
    func connection(retrying: Bool = false) async throws -> RedisConnection {
        enum Pick {
            case ready(RedisConnection)
            case wait(Task<RedisConnection, any Error>)
        }
        let pick: Pick = try state.withLock { state in
            guard !state.isShutDown else { throw RedisError(.shutDown, "the Redis client was shut down") }
            // Drop dead connections so they are replaced.
            state.slots.removeAll { if case .ready(let connection) = $0 { return !connection.isActive } else { return false } }
            if state.slots.count < configuration.maximumConnections {
                if let retryAt = state.retryAt, ContinuousClock.now < retryAt {
                    if let ready = state.readyConnection() { return .ready(ready) }
                    throw RedisError(.connectionFailed, "Redis at \(configuration) is unreachable; retrying shortly")
                }
                let configuration = self.configuration
                let eventLoop = eventLoopGroup.any()
                let scripts = state.scripts
                let sentinel = self.sentinel
                let task = Task { try await Self.open(configuration, sentinel: sentinel, on: eventLoop, scripts: scripts) }
                state.slots.append(.connecting(task))
                return .wait(task)
            }
            state.next = (state.next + 1) % state.slots.count
            switch state.slots[state.next] {
            case .ready(let connection): return .ready(connection)
            case .connecting(let task): return .wait(task)
            }
        }
        switch pick {
        case .ready(let connection):
            return connection
        case .wait(let task):
            do {
                let connection = try await task.value
                let pooled = state.withLock { state in
                    state.backoff = .zero
                    state.retryAt = nil
                    for (index, slot) in state.slots.enumerated() {
                        switch slot {
                        case .connecting(let t) where t == task:
                            state.slots[index] = .ready(connection)
                            return true
                        case .ready(let pooled) where pooled === connection:
                            return true  // another waiter for the same connection put it in the pool
                        default:
                            continue
                        }
                    }
                    return false
                }
                if pooled { return connection }
                // The pool was dropped while this connection was being opened (a failover): it may lead to the
                // old primary. Close it and open another, once.
                await connection.close()
                guard !retrying else { throw RedisError(.connectionFailed, "the primary changed while connecting") }
                return try await self.connection(retrying: true)
            } catch {
                state.withLock { state in
                    let index = state.slots.firstIndex { if case .connecting(let t) = $0 { return t == task } else { return false } }
                    // Only a slot still in the pool backs off: a dropped pool starts afresh.
                    guard let index else { return }
                    state.slots.remove(at: index)
                    let doubled = state.backoff == .zero ? configuration.initialBackoff : state.backoff * 2
                    state.backoff = min(doubled, configuration.maximumBackoff)
                    // Jitter keeps many instances from reconnecting in step.
                    let jitter = Double.random(in: 0.8...1.2)
                    state.retryAt = ContinuousClock.now + state.backoff * jitter
                }
                throw error
            }
        }
    }
}

