import DefenderCore
import ServiceLifecycle

/// Keeps a ``RedisAttemptStore``'s block cache honest: a connection of its own, subscribed to the store's channel,
/// drops each block that any instance lifts or changes (unblock, manual block, an unblocking success).
///
/// While subscribed, cached blocks are believed until they end; when the connection is lost they are believed only
/// for the cache's short staleness, and every (re)subscription starts from an empty cache, as messages may have been
/// missed in between. With Sentinel the subscription follows the primary like the client's other connections. A
/// client that does not subscribe (``RedisScriptExecutor/subscribe(to:onMessage:)`` returns `nil`) leaves the cache
/// to believe its blocks for one second only.
final class RedisBlockInvalidations: Service {
    let client: any RedisScriptExecutor
    let channel: String
    let cache: RedisBlockCache
    /// The first pause between two subscription attempts (doubling to 5 s).
    let retryDelay: Duration
    /// How often the subscription is checked with a `PING`.
    let pingInterval: Duration

    init(
        client: any RedisScriptExecutor, channel: String, cache: RedisBlockCache, retryDelay: Duration = .milliseconds(250),
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
                let subscription = try await client.subscribe(to: channel) { message in
                    if let key = RedisBlockCache.key(fromMessage: message) { cache.forget(key) }
                }
                guard let subscription else {
                    // This client cannot subscribe: cached blocks are believed for the cache's short staleness.
                    cache.setListening(false)
                    try? await Task.sleep(for: .seconds(1_000_000_000))
                    return
                }
                cache.forgetAll()
                cache.setOutage(false)
                cache.setListening(true)
                delay = retryDelay
                await watch(subscription)
                cache.setListening(false)
                await subscription.close()
            } catch {
                cache.setListening(false)
                // Redis cannot be reached: known blocks are believed until they end (the outage rule). A refusal
                // of this connection alone (an ACL without the channel) is no outage.
                if let error = error as? RedisError, error.code == .connectionFailed || error.code == .connectionLost || error.code == .timeout { cache.setOutage(true) }
            }
            do { try await Task.sleep(for: delay) } catch { return }
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// Returns when the subscription is lost: closed, silent (a `PING` unanswered within the command timeout: a
    /// half-open socket would otherwise look alive for hours), or on a server that is no longer the primary.
    private func watch(_ subscription: any RedisSubscription) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: pingInterval)
                try await subscription.check()
            } catch {
                return
            }
        }
    }
}
