import DefenderCore
import ServiceLifecycle

/// Keeps a ``RedisAttemptStore``'s block cache honest: a connection of its own, subscribed to the store's channel,
/// drops each block that any instance lifts or changes (unblock, manual block, an unblocking success).
///
/// While subscribed, cached blocks are believed until they end; when the connection is lost they are believed only
/// for the cache's short staleness, and every (re)subscription starts from an empty cache, as messages may have been
/// missed in between. With Sentinel the subscription follows the primary like the client's other connections.
final class RedisBlockInvalidations: Service {
    let client: RedisClient
    let channel: String
    let cache: RedisBlockCache
    /// The first pause between two subscription attempts (doubling to 5 s).
    let retryDelay: Duration
    /// How often the subscription is checked with a `PING`.
    let pingInterval: Duration

    init(
        client: RedisClient, channel: String, cache: RedisBlockCache, retryDelay: Duration = .milliseconds(250),
        pingInterval: Duration = .seconds(2)
    ) {
        self.client = client
        self.channel = channel
        self.cache = cache
        self.retryDelay = retryDelay
        self.pingInterval = pingInterval
    }

    /// Listens until graceful shutdown.
    func run() async {
        await cancelWhenGracefulShutdown { await self.listen() }
        cache.setListening(false)
    }

    private func listen() async {
        let cache = self.cache
        var delay = retryDelay
        while !Task.isCancelled {
            do {
                let changes = client.primaryChanges
                let connection = try await client.subscribe(to: channel) { message in
                    if let key = RedisBlockCache.key(fromMessage: message) { cache.forget(key) }
                }
                cache.forgetAll()
                cache.setOutage(false)
                cache.setListening(true)
                delay = retryDelay
                await watch(connection, openedAt: changes)
                cache.setListening(false)
                await connection.close()
                client.refreshClusterMap()
            } catch {
                cache.setListening(false)
                client.refreshClusterMap()
                // Redis cannot be reached: known blocks are believed until they end (the outage rule). A refusal
                // of this connection alone (an ACL without the channel) is no outage.
                if let error = error as? RedisError, error.code == .connectionFailed || error.code == .timeout { cache.setOutage(true) }
            }
            do { try await Task.sleep(for: delay) } catch { return }
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// Returns when the subscription is lost: closed, silent (a `PING` unanswered within the command timeout: a
    /// half-open socket would otherwise look alive for hours), or on a server that is no longer the primary.
    private func watch(_ connection: RedisConnection, openedAt changes: Int) async {
        while connection.isActive, !Task.isCancelled {
            do {
                try await Task.sleep(for: pingInterval)
                guard client.primaryChanges == changes else { return }
                _ = try await connection.send(["PING"])
            } catch {
                return
            }
        }
    }
}
