import DefenderCore
import Foundation

/// What an operator can do, in one place for the admin (page and JSON API) and the commands of every integration:
/// each rule (which key, what a valid duration is, how a deny-list range is spelled and applied) is written once.
package struct DefenderOperations: Sendable {
    package let engine: Defender
    /// The audit log, when the app keeps one that can be read back.
    package let history: (any AccessAttemptHistory)?
    /// The stored deny list, when the app keeps one.
    package let denylist: (any StoredDenylist)?
    /// Puts a stored deny list in force in this process (the integration keeps it for engines built later).
    package let applyDenylist: @Sendable (IPNetworkSet) -> Void

    package init(
        engine: Defender, history: (any AccessAttemptHistory)?, denylist: (any StoredDenylist)?,
        applyDenylist: @escaping @Sendable (IPNetworkSet) -> Void
    ) {
        self.engine = engine
        self.history = history
        self.denylist = denylist
        self.applyDenylist = applyDenylist
    }

    /// The key named by `ip` or by `username`, or, where `pairs` are accepted (unblocking), by both: a shared
    /// address's pair. Blank values count as absent; `nil` for none, or both where pairs are not accepted (an
    /// operator blocks an address or a username; pairs are locked by failures only).
    /// - Throws: `DefenderError` with `DefenderError/Code/invalidKey` for a value that is not a key.
    package func key(ip: String?, username: String?, pairs: Bool = false) throws -> DefenderKey? {
        switch (ip.flatMap(Self.nonBlank), username.flatMap(Self.nonBlank)) {
        case (let ip?, nil): return try engine.ipKey(ip)
        case (nil, let username?): return try engine.usernameKey(username)
        case (let ip?, let username?) where pairs: return .pair(address: try engine.ipKey(ip), username: try engine.usernameKey(username))
        default: return nil
        }
    }

    /// The key an admin form names: its `kind` (`ip`, `username`, or `pair` with the value `ADDRESS|USERNAME`, as
    /// the page lists pairs) and value.
    package func key(kind: String?, value: String) throws -> DefenderKey? {
        switch kind {
        case "ip": return try key(ip: value, username: nil)
        case "username": return try key(ip: nil, username: value)
        case "pair":
            let pair = DefenderKey(kind: .pair, normalizedValue: value)
            guard let address = pair.pairAddress, let username = pair.pairUsername else { throw DefenderError(.invalidKey, "a pair is ADDRESS|USERNAME") }
            return try key(ip: address.value, username: username, pairs: true)
        default: return nil
        }
    }

    /// Blocks `key` for `seconds`, or until unblocked; events fire from the engine, once per transition.
    /// - Throws: `DefenderError` with `DefenderError/Code/invalidKey` for a duration that is not above 0.
    package func block(_ key: DefenderKey, seconds: Int?) async throws {
        if let seconds, seconds <= 0 { throw DefenderError(.invalidKey, "seconds must be above 0 (leave it out for a permanent block)") }
        try await engine.block(key, for: seconds.map { .seconds($0) })
    }

    /// Lifts the block of `key` and clears its counter.
    /// - Returns: whether it was blocked.
    package func unblock(_ key: DefenderKey) async throws -> Bool {
        try await engine.unblock(key)
    }

    /// Every active block, read page by page.
    package func blocks() async throws -> BlocksReport {
        try await BlocksReport.read(from: engine)
    }

    /// The audit log, or an error saying how to keep one.
    package func requireHistory() throws -> any AccessAttemptHistory {
        guard let history else {
            throw DefenderError(.invalidConfiguration, "this app keeps no audit log that can be read back: call app.defender.useAccessLog(_:) in its configure")
        }
        return history
    }

    /// The stored deny list, or an error saying how to keep one.
    package func requireDenylist() throws -> any StoredDenylist {
        guard let denylist else {
            throw DefenderError(.invalidConfiguration, "this app keeps no stored deny list: call app.defender.useStoredDenylist(_:) in its configure")
        }
        return denylist
    }

    /// Adds an address or CIDR range to the stored deny list and puts the list in force here at once.
    /// - Returns: the range in canonical form, and whether it was new.
    /// - Throws: `DefenderError` with `DefenderError/Code/invalidKey` for anything that is not a range.
    package func deny(_ text: String, note: String) async throws -> (network: IPNetwork, added: Bool) {
        let list = try requireDenylist()
        let network = try Self.network(text)
        let added = try await list.add(network, note: String(note.prefix(255)))
        try await reloadDenylist()
        return (network, added)
    }

    /// Removes a range, in any spelling of it, from the stored deny list and puts the list in force here at once.
    /// - Returns: whether it was there.
    package func undeny(_ text: String) async throws -> Bool {
        let list = try requireDenylist()
        let removed = try await list.remove(try Self.network(text))
        try await reloadDenylist()
        return removed
    }

    /// Reads the stored deny list and puts it in force in this process.
    package func reloadDenylist() async throws {
        applyDenylist(try await requireDenylist().networks())
    }

    /// Deletes audit rows older than `DEFENDER_ACCESS_ATTEMPT_EXPIRATION`.
    /// - Returns: how many rows were deleted.
    package func cleanup(now: Date = Date()) async throws -> Int {
        let expiration = engine.configuration.accessAttemptExpiration
        return try await requireHistory().deleteAttempts(before: now.addingTimeInterval(-Double(expiration.components.seconds)))
    }

    static func network(_ text: String) throws -> IPNetwork {
        guard let network = IPNetwork(text.trimmingCharacters(in: .whitespaces)) else {
            throw DefenderError(.invalidKey, "'\(text.prefix(64))' is not an IP address or CIDR range (such as 203.0.113.0/24 or 2001:db8::/32)")
        }
        return network
    }

    package static func nonBlank(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }
}
