import NIOCore

/// Our own client is one ``RedisScriptExecutor`` among others: the store uses it through the same protocol an app's
/// own client implements.
extension RedisClient: RedisScriptExecutor {
    /// Whether the configuration names a Cluster (`redis-cluster://`).
    public var isCluster: Bool { configuration.isCluster }

    /// Runs `script` (see ``RedisScriptExecutor/evaluate(_:keys:arguments:)``); with Sentinel a `READONLY` reply
    /// sends it once more to the new primary, with a Cluster it follows `MOVED` and `ASK`.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisReply {
        RedisReply(try await run(script, keys: keys, arguments: arguments))
    }

    /// Has every connection opened from now on load `scripts` in its handshake.
    public func load(_ scripts: [RedisScript]) {
        preload(scripts)
    }

    /// Subscribes on a connection of its own: to the primary with Sentinel, to the node of the channel's slot in a
    /// Cluster. The subscription counts as lost when its connection closes, a `PING` goes unanswered, or Sentinel
    /// names another primary.
    public func subscribe(to channel: String, onMessage: @escaping @Sendable (String) -> Void) async throws -> (any RedisSubscription)? {
        let changes = primaryChanges
        do {
            let connection = try await openSubscription(to: channel, onMessage: onMessage)
            return ClientSubscription(client: self, connection: connection, openedAt: changes)
        } catch {
            refreshClusterMap()
            throw error
        }
    }
}

/// A subscription of ``RedisClient``: its connection, and the primary it was made on.
private struct ClientSubscription: RedisSubscription {
    let client: RedisClient
    let connection: RedisConnection
    let openedAt: Int

    func check() async throws {
        guard connection.isActive, client.primaryChanges == openedAt else {
            throw RedisError(.connectionFailed, "the subscription's connection was closed or its primary replaced")
        }
        _ = try await connection.send(["PING"])
    }

    func close() async {
        await connection.close()
        // With a Cluster the node may have failed over: read the slot map again soon.
        client.refreshClusterMap()
    }
}

extension RedisReply {
    /// The reply as the store reads it. RESP3 types a script cannot return are mapped as `EVAL` maps them to RESP2.
    init(_ value: RESPValue) {
        switch value {
        case .integer(let number): self = .integer(number)
        case .simpleString(let text), .bigNumber(let text): self = .string(text)
        case .bulkString(let buffer?), .verbatimString(let buffer): self = .string(String(buffer: buffer))
        case .bulkString(nil), .array(nil), .null: self = .null
        case .error(let text): self = .error(text)
        case .boolean(let flag): self = flag ? .integer(1) : .null
        case .double(let number): self = .string(String(number))
        case .array(let values?), .set(let values), .push(let values): self = .array(values.map(RedisReply.init))
        case .map(let pairs): self = .array(pairs.flatMap { [RedisReply($0.0), RedisReply($0.1)] })
        }
    }
}
