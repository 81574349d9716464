import NIOCore
import Synchronization

/// Routes commands in a Redis Cluster: a map of which node serves each slot (`CLUSTER SLOTS`, from any known
/// node or seed), a pooled client per node, and the redirections a cluster answers with:
/// - `MOVED slot host:port`: the slot lives elsewhere now; the map is corrected at once (and refreshed whole in the
///   background) and the command sent there;
/// - `ASK slot host:port`: the slot is being migrated and this key is already on the target; the command is sent
///   there once, preceded by `ASKING` on the same connection;
/// - `TRYAGAIN` (a multi-key command during a migration) and `CLUSTERDOWN`: retried briefly, then an outage.
///
/// Every command's keys must share a slot: a call whose keys span slots is refused before it is sent (the store's
/// keys all carry one hash tag, so none of its scripts can).
final class ClusterRouter: Sendable {
    /// Credentials, TLS and timeouts for every node.
    let base: RedisConfiguration
    let seeds: [RedisConfiguration.Endpoint]
    private let eventLoopGroup: any EventLoopGroup
    private let state: Mutex<State>
    /// Redirections (`MOVED`, `ASK`) one command may follow before it is an outage.
    let maximumRedirections = 12
    /// How long one command keeps retrying `TRYAGAIN` and `CLUSTERDOWN` (a slot half migrated, a failover) before
    /// it is an outage.
    let retryDeadline: Duration = .seconds(2)
    /// `MOVED`, `ASK` and `TRYAGAIN`/`CLUSTERDOWN` answers followed so far, by kind.
    let followed = Mutex<[String: Int]>([:])

    private struct State {
        var slots: [RedisConfiguration.Endpoint?] = Array(repeating: nil, count: ClusterSlot.count)
        var nodes: [RedisConfiguration.Endpoint: RedisClient] = [:]
        var scripts: [RedisScript] = []
        var refresh: Task<Void, any Error>?
        var isShutDown = false
        /// The distinct nodes in `slots`, counted when the map changes (health reads it; routing holds the lock).
        var primaryCount = 0
    }

    init(seeds: [RedisConfiguration.Endpoint], base: RedisConfiguration, eventLoopGroup: any EventLoopGroup) {
        var base = base
        base.topology = .standalone
        self.base = base
        self.seeds = seeds
        self.eventLoopGroup = eventLoopGroup
        state = Mutex(State())
    }

    /// Scripts every node's connections load in their handshake.
    func preload(_ scripts: [RedisScript]) {
        let nodes = state.withLock { state in
            for script in scripts where !state.scripts.contains(script) { state.scripts.append(script) }
            return Array(state.nodes.values)
        }
        for node in nodes { node.preload(scripts) }
    }

    /// The number of nodes that serve slots in the map.
    var knownPrimaries: Int { state.withLock { $0.primaryCount } }

    /// Runs a script on the node that serves its keys' slot.
    func run(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        try await route(keys) { node, asking in
            asking ? try await node.runAsking(script, keys: keys, arguments: arguments) : try await node.run(script, keys: keys, arguments: arguments)
        }
    }

    /// Sends a command: to the node of its first key's slot (`arguments[1]`), or to any node when it has none.
    func send(_ arguments: [String]) async throws -> RESPValue {
        try await route(arguments.count > 1 ? [arguments[1]] : []) { node, asking in
            asking ? try await node.sendAsking(arguments) : try await node.send(arguments)
        }
    }

    /// The node that serves `key`'s slot, for a subscription: the store's channel carries the store's hash tag, so
    /// the subscription sits on the node its scripts use and moves with them. (Any node would hear the publications,
    /// which the cluster bus forwards; this one is the one whose failure the store notices too.)
    func nodeConfiguration(forKey key: String) async throws -> RedisConfiguration {
        configuration(for: try await node(serving: ClusterSlot.of(key)).endpoint)
    }

    /// Reads the map again in the background (after a subscription or connection failed).
    func refreshSoon() {
        refreshInBackground()
    }

    func shutdown() async {
        let nodes = state.withLock { state in
            state.isShutDown = true
            state.refresh?.cancel()
            defer { state.nodes = [:] }
            return Array(state.nodes.values)
        }
        for node in nodes { await node.shutdown() }
    }

    private func route(_ keys: [String], _ send: (RedisClient, _ asking: Bool) async throws -> RESPValue) async throws -> RESPValue {
        guard let slot = ClusterSlot.common(keys) else {
            throw RedisError(.serverError, "CROSSSLOT refused before sending: the keys of one command span several slots")
        }
        var target = try await node(serving: slot)
        var asking = false
        var redirections = 0
        var refreshedAfterConnectFailure = false
        let started = ContinuousClock.now
        var pause = Duration.milliseconds(25)
        while true {
            do {
                return try await send(target.client, asking)
            } catch let error as RedisError {
                if let reply = error.reply, [.moved, .ask, .tryAgain, .clusterDown].contains(reply) {
                    followed.withLock { $0[reply.description, default: 0] += 1 }
                }
                switch error.reply {
                case .moved?, .ask?:
                    redirections += 1
                    guard redirections <= maximumRedirections, let moved = Self.redirection(error.message, from: target.endpoint) else {
                        throw error
                    }
                    if error.reply == .moved {
                        state.withLock { $0.slots[moved.slot] = moved.endpoint }
                        refreshInBackground()
                    }
                    target = (moved.endpoint, try client(for: moved.endpoint))
                    asking = error.reply == .ask
                case .tryAgain?, .clusterDown?:
                    try await retryLater(error, started: started, pause: &pause)
                    target = try await node(serving: slot)
                    asking = false
                case .error? where error.message.contains("non local key"):
                    // A script reached a key that has just been migrated (the block list's undeclared keys): as
                    // TRYAGAIN, the slot is moving.
                    try await retryLater(error, started: started, pause: &pause)
                    target = try await node(serving: slot)
                    asking = false
                default:
                    guard error.code == .connectionFailed, !refreshedAfterConnectFailure else {
                        if error.code == .timeout { refreshInBackground() }
                        throw error
                    }
                    // Nothing was sent (the node could not be reached; a connection that broke with the command out
                    // is `connectionLost`, never retried: the node may have run it): if the map now names another
                    // owner (a failover the cluster has finished), go there once.
                    refreshedAfterConnectFailure = true
                    try? await refresh()
                    let owner = try await node(serving: slot)
                    guard owner.endpoint != target.endpoint else { throw error }
                    target = owner
                    asking = false
                }
            }
        }
    }

    private func retryLater(_ error: RedisError, started: ContinuousClock.Instant, pause: inout Duration) async throws {
        guard ContinuousClock.now - started + pause <= retryDeadline else { throw error }
        try await Task.sleep(for: pause)
        pause = min(pause * 2, .milliseconds(200))
    }

    /// `MOVED 3999 127.0.0.1:6381` / `ASK …`; an empty host is the node that answered.
    static func redirection(_ message: String, from node: RedisConfiguration.Endpoint) -> (slot: Int, endpoint: RedisConfiguration.Endpoint)? {
        let words = message.split(separator: " ")
        guard words.count >= 3, let slot = Int(words[1]), (0..<ClusterSlot.count).contains(slot),
            let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...])
        else { return nil }
        var host = String(words[2][..<colon])
        // Empty, or `?` (Redis 7 with hostname endpoints and no hostname set): the node that answered.
        if host.isEmpty || host == "?", case .tcp(let nodeHost, _) = node { host = nodeHost }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (slot, .tcp(host: host, port: port))
    }

    private func node(serving slot: Int) async throws -> (endpoint: RedisConfiguration.Endpoint, client: RedisClient) {
        if let endpoint = state.withLock({ $0.slots[slot] }) { return (endpoint, try client(for: endpoint)) }
        try await refresh()
        guard let endpoint = state.withLock({ $0.slots[slot] }) else {
            throw RedisError(.serverError, "CLUSTERDOWN no node serves slot \(slot)")
        }
        return (endpoint, try client(for: endpoint))
    }

    private func client(for endpoint: RedisConfiguration.Endpoint) throws -> RedisClient {
        let (client, scripts, isNew) = try state.withLock { state in
            guard !state.isShutDown else { throw RedisError(.shutDown, "the Redis client was shut down") }
            if let existing = state.nodes[endpoint] { return (existing, state.scripts, false) }
            let client = RedisClient(configuration: configuration(for: endpoint), eventLoopGroup: eventLoopGroup)
            state.nodes[endpoint] = client
            return (client, state.scripts, true)
        }
        if isNew { client.preload(scripts) }
        return client
    }

    private func configuration(for endpoint: RedisConfiguration.Endpoint) -> RedisConfiguration {
        var configuration = base
        configuration.endpoint = endpoint
        return configuration
    }

    private func refreshInBackground() {
        Task { try? await refresh() }
    }

    /// Reads the slot map (`CLUSTER SLOTS`) from the first known node or seed that answers; concurrent callers
    /// share one refresh.
    func refresh() async throws {
        let task: Task<Void, any Error> = state.withLock { state in
            if let running = state.refresh { return running }
            let candidates = Array(Set(state.slots.compactMap { $0 })) + seeds
            let task = Task { try await self.readMap(from: candidates) }
            state.refresh = task
            return task
        }
        defer { state.withLock { if $0.refresh == task { $0.refresh = nil } } }
        try await task.value
    }

    private func readMap(from candidates: [RedisConfiguration.Endpoint]) async throws {
        var failures: [String] = []
        for endpoint in candidates {
            do {
                let reply = try await client(for: endpoint).send(["CLUSTER", "SLOTS"])
                var slots = [RedisConfiguration.Endpoint?](repeating: nil, count: ClusterSlot.count)
                for range in reply.elements ?? [] {
                    guard let parts = range.elements, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                        let node = parts[2].elements, node.count >= 2, let port = node[1].int,
                        start >= 0, end < ClusterSlot.count, start <= end
                    else { continue }
                    var host = node[0].string ?? ""
                    if host.isEmpty || host == "?", case .tcp(let seedHost, _) = endpoint { host = seedHost }
                    for slot in Int(start)...Int(end) { slots[slot] = .tcp(host: host, port: Int(port)) }
                }
                guard slots.contains(where: { $0 != nil }) else {
                    failures.append("\(endpoint.hostPort) serves no slots")
                    continue
                }
                // Nodes that left the map (and seeds that are not in it under that name) are closed.
                let retired: [RedisClient] = state.withLock { state in
                    state.slots = slots
                    let inUse = Set(slots.compactMap { $0 })
                    state.primaryCount = inUse.count
                    let gone = state.nodes.keys.filter { !inUse.contains($0) }
                    defer { for endpoint in gone { state.nodes[endpoint] = nil } }
                    return gone.compactMap { state.nodes[$0] }
                }
                for client in retired { await client.shutdown() }
                return
            } catch {
                failures.append("\(endpoint.hostPort): \((error as? RedisError)?.message ?? "\(error)")")
            }
        }
        throw RedisError(.connectionFailed, "no cluster node gave the slot map: \(failures.joined(separator: "; "))")
    }
}
