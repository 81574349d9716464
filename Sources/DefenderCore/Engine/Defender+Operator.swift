extension Defender {
    // MARK: Operator actions

    /// Blocks an IP (or the IPv6 group it belongs to); `duration` `nil` blocks until unblocked.
    /// - Parameters:
    ///   - ip: an address or a group such as `2001:db8::/64`.
    ///   - duration: how long the block lasts; `nil` until ``unblock(ip:)``.
    /// - Throws: ``DefenderError`` with ``DefenderError/Code/invalidKey`` when `ip` is not an address.
    @discardableResult
    public func block(ip: String, for duration: Duration? = nil) async throws -> Bool {
        try await block(ipKey(ip), for: duration)
    }

    /// Blocks a username; `duration` `nil` blocks until unblocked.
    @discardableResult
    public func block(username: String, for duration: Duration? = nil) async throws -> Bool {
        try await block(usernameKey(username), for: duration)
    }

    /// Lifts the block of an IP, or of the IPv6 group an address belongs to, and clears its counter.
    @discardableResult
    public func unblock(ip: String) async throws -> Bool {
        try await unblock(ipKey(ip))
    }

    /// Lifts the block of a username and clears its counter.
    @discardableResult
    public func unblock(username: String) async throws -> Bool {
        try await unblock(usernameKey(username))
    }

    /// Blocks a key by hand, firing the event when it was not blocked.
    @discardableResult
    public func block(_ key: DefenderKey, for duration: Duration?) async throws -> Bool {
        // Checked here, for every caller: a store adds it to its clock (and Redis's milliseconds), where an
        // enormous value would overflow and stop the process.
        if let duration, duration <= .zero || duration > DefenderConfiguration.maximumDuration {
            throw DefenderError(
                .invalidKey,
                "a block lasts from 1 to \(DefenderConfiguration.maximumDuration.components.seconds) seconds; leave the duration out for a permanent block")
        }
        // The write and its event are one step: an admin request cancelled while the store answers (the browser
        // closed) must not leave a block that landed without the event that tells other instances and webhooks.
        return try await shielded { [store, events] in
            let newly = try await store.block(key, for: duration)
            if newly { events.emit(DefenderEvent(key: key, blocked: true), cause: .manual) }
            return newly
        }
    }

    /// Unblocks a key by hand, firing the event when it was blocked.
    @discardableResult
    public func unblock(_ key: DefenderKey) async throws -> Bool {
        try await shielded { [store, events] in
            let was = try await store.unblock(key)
            if was { events.emit(DefenderEvent(key: key, blocked: false)) }
            return was
        }
    }

    /// Every active block of one kind, read page by page.
    public func allBlocks(of kind: DefenderKey.Kind, pageSize: Int = 500) async throws -> [BlockInfo] {
        var result: [BlockInfo] = []
        var cursor: String?
        repeat {
            let page = try await store.blocks(of: kind, after: cursor, limit: pageSize)
            result += page.blocks
            cursor = page.nextCursor
        } while cursor != nil
        return result
    }

    /// The key of an operator-supplied IP: an address (grouped like clients) or an IPv6 group.
    public func ipKey(_ text: String) throws(DefenderError) -> DefenderKey {
        let trimmed = text.trimmingASCIIWhitespace()
        if let address = ClientIPResolver.parseEntry(trimmed) { return .ip(resolver.client(address)) }
        if trimmed.contains("/"), let network = IPNetwork(trimmed), network.address.isIPv6,
            network.prefixLength == resolver.ipv6PrefixLength
        {
            return .ip(resolver.client(network.address))
        }
        throw DefenderError(.invalidKey, "'\(trimmed.prefix(64))' is not an IP address (or an IPv6 /\(resolver.ipv6PrefixLength) group)")
    }

    /// The key of an operator-supplied username.
    public func usernameKey(_ text: String) throws(DefenderError) -> DefenderKey {
        guard let key = DefenderKey.username(text) else { throw DefenderError(.invalidKey, "the username is empty") }
        return key
    }
}
