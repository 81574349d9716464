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
    /// The pause between two subscription attempts.
    let retryDelay: Duration

    init(client: RedisClient, channel: String, cache: RedisBlockCache, retryDelay: Duration = .milliseconds(250)) {
        self.client = client
        self.channel = channel
        self.cache = cache
        self.retryDelay = retryDelay
    }

    /// Listens until graceful shutdown.
    func run() async {
        await cancelWhenGracefulShutdown { await self.listen() }
        cache.setListening(false)
    }

    private func listen() async {
        let cache = self.cache
        while !Task.isCancelled {
            do {
                let connection = try await client.subscribe(to: channel) { message in
                    if let key = RedisBlockCache.key(fromMessage: message) { cache.forget(key) }
                }
                cache.forgetAll()
                cache.setOutage(false)
                cache.setListening(true)
                await connection.closed()
                cache.setListening(false)
                await connection.close()
            } catch {
                cache.setListening(false)
                // Redis cannot be reached: known blocks are believed until they end (the outage rule).
                if (error as? RedisError)?.isUnavailable ?? true { cache.setOutage(true) }
            }
            do { try await Task.sleep(for: retryDelay) } catch { return }
        }
    }
}
