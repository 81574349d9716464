import NIOCore
import Synchronization

/// Following a Sentinel failover: the new primary is adopted, and the pool's connections to the old one closed.
extension RedisClient {
    /// Follows Sentinel's choice of primary until cancelled: a `+switch-master` subscription on one Sentinel,
    /// and an ask every `checkInterval` in case an announcement was missed.
    func followFailovers(_ sentinel: SentinelLocator) async {
        let eventLoop = eventLoopGroup.any()
        while !Task.isCancelled {
            let subscription = try? await sentinel.subscribe(on: eventLoop) { [weak self] endpoint in self?.follow(endpoint) }
            repeat {
                do { try await Task.sleep(for: sentinel.settings.checkInterval) } catch { break }
                if let found = try? await sentinel.ask(on: eventLoop) { follow(found) }
            } while subscription?.isActive == true && !Task.isCancelled
            await subscription?.close()
        }
    }

    /// Uses `endpoint` as the primary from now on; connections to another server are closed (and subscriptions
    /// told to move, through ``primaryChanges``).
    func follow(_ endpoint: RedisConfiguration.Endpoint) {
        guard let sentinel, sentinel.adopt(endpoint) else { return }
        primaryChangeCount.add(1, ordering: .relaxed)
        Task { await dropConnections() }
    }

    /// How many times the primary has changed (with Sentinel): a subscription opened before a change is moved.
    @_spi(Internals) public var primaryChanges: Int { primaryChangeCount.load(ordering: .relaxed) }
}
