/// What the Redis store needs from a Redis client: run a Lua script by its SHA-1 with keys and arguments, load
/// scripts ahead, and (for the block cache) subscribe to a channel.
///
/// ``RedisClient`` implements it. An app that already holds a Redis connection pool (RediStack, valkey-swift, …)
/// implements it over that pool and passes it to ``RedisAttemptStore/init(client:prefix:historyWindow:rememberBlocks:)``
/// or ``RedisStoreFactory/init(client:)``: Defender then opens no connection of its own. See the DocC article
/// "Bring your own Redis client".
///
/// Every script the store runs is one atomic step and touches keys of one hash slot, so the executor may send it to
/// any primary that owns the keys (a Cluster client routes by `keys[0]`).
public protocol RedisScriptExecutor: Sendable {
    /// Whether the server is a Redis Cluster. The store then puts every key under one hash tag (`{prefix}`), so that
    /// each script's keys live in one slot.
    var isCluster: Bool { get }

    /// Runs `script` with `EVALSHA` and, when the server answers `NOSCRIPT` (after a restart or `SCRIPT FLUSH`), with
    /// `EVAL` and its source.
    /// - Parameters:
    ///   - script: the script: its source and SHA-1.
    ///   - keys: the script's `KEYS`, all in one hash slot.
    ///   - arguments: the script's `ARGV`.
    /// - Returns: the script's reply.
    /// - Throws: ``RedisError`` with code `serverError` and the server's error text (`"WRONGTYPE …"`, `"READONLY …"`)
    ///   for an error reply, so that the store can tell a fault of the command from a server that cannot serve now
    ///   (``RedisError/Reply/isUnavailable``); `connectionFailed` or `timeout` when the server cannot be reached. Any
    ///   other error counts as an outage: the store's failure policy (`DEFENDER_STORE_FAILURE`) decides.
    func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisReply

    /// Loads `scripts` ahead of their first use (`SCRIPT LOAD`), so that the first `EVALSHA` costs one round trip.
    /// Optional: without it the first call of each script takes the `NOSCRIPT` path once.
    /// - Parameter scripts: every script the store will run.
    func load(_ scripts: [RedisScript])

    /// Subscribes to `channel` on a connection of its own and hands each message's payload to `onMessage`.
    ///
    /// The store's block cache listens to the blocks other instances lift. Without a subscription (the default
    /// implementation returns `nil`) it still works, but believes a cached block for one second only.
    /// - Parameters:
    ///   - channel: the channel's name.
    ///   - onMessage: called with the payload of each message, on any thread.
    /// - Returns: the subscription, or `nil` when this client does not subscribe.
    /// - Throws: when the subscription cannot be made now (the store tries again, backing off up to 5 s).
    func subscribe(to channel: String, onMessage: @escaping @Sendable (String) -> Void) async throws -> (any RedisSubscription)?
}

extension RedisScriptExecutor {
    /// Loads nothing: each script is sent with `EVAL` once, on its first `NOSCRIPT`.
    public func load(_ scripts: [RedisScript]) {}

    /// No subscription: cached blocks are believed for one second.
    public func subscribe(to channel: String, onMessage: @escaping @Sendable (String) -> Void) async throws -> (any RedisSubscription)? {
        nil
    }
}

/// A live subscription made by ``RedisScriptExecutor/subscribe(to:onMessage:)``.
public protocol RedisSubscription: Sendable {
    /// Returns when the subscription still works (a `PING` answered on its connection); throws when it is lost —
    /// closed, silent, or on a server that is no longer the one to listen to. Called every two seconds: messages
    /// may have been missed once it throws, so the store then forgets every cached block.
    func check() async throws

    /// Unsubscribes and closes the connection.
    func close() async
}
