import DefenderCore
import Foundation

/// What an operator can do, in one place for the admin (page and JSON API) and the commands of every integration:
/// each rule (which key, what a valid duration is, how a deny-list range is spelled and applied) is written once.
package struct DefenderOperations: Sendable {
    package let engine: Defender
    /// The audit log, when the app keeps one that can be read back.
    package let history: (any AccessAttemptHistory)?
    /// The stored deny list, when the app keeps one.
    package let denylist: (any StoredRangeList)?
    /// The stored shared ranges, when the app keeps them.
    package let sharedRanges: (any StoredRangeList)?
    /// Reads a stored list and puts it in force in this process, in order with every other reload of it
    /// (`DefenderRuntime/reload(_:)`: an older read never replaces a newer one).
    package let reloadList: @Sendable (RangeList) async throws -> Void

    /// A stored list of ranges an operator manages.
    package enum RangeList: Sendable, Hashable {
        /// The deny list: refused before any password check.
        case denylist
        /// The shared ranges: counted by (address, username) pair.
        case sharedRanges

        /// `stored deny list`, `stored shared ranges`: for messages.
        package var title: String {
            switch self {
            case .denylist: "stored deny list"
            case .sharedRanges: "stored shared ranges"
            }
        }
    }

    package init(
        engine: Defender, history: (any AccessAttemptHistory)?, denylist: (any StoredRangeList)?, sharedRanges: (any StoredRangeList)? = nil,
        reload: @escaping @Sendable (RangeList) async throws -> Void
    ) {
        self.engine = engine
        self.history = history
        self.denylist = denylist
        self.sharedRanges = sharedRanges
        self.reloadList = reload
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
        case "device":
            guard value.utf8.count == 32, value.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw DefenderError(.invalidKey, "a device is the 32 hex digits the page lists")
            }
            return DefenderKey(kind: .device, normalizedValue: value)
        default: return nil
        }
    }

    /// Blocks `key` for `seconds`, or until unblocked; events fire from the engine, once per transition. The rule
    /// for every way an operator blocks (the admin's page and API, the commands): an address or a username; a
    /// shared address's pair and a device are locked by failures only, and only unblocked by hand.
    /// - Throws: `DefenderError` with `DefenderError/Code/invalidKey` for a pair, a device, or a duration that is
    ///   not above 0.
    package func block(_ key: DefenderKey, seconds: Int?) async throws {
        guard key.kind == .ip || key.kind == .username else {
            throw DefenderError(.invalidKey, "an operator blocks an IP or a username; a \(key.kind.rawValue) is only unblocked")
        }
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

    /// A stored list, or an error saying how to keep it.
    package func require(_ list: RangeList) throws -> any StoredRangeList {
        switch list {
        case .denylist:
            guard let denylist else {
                throw DefenderError(.invalidConfiguration, "this app keeps no stored deny list: call app.defender.useStoredDenylist(_:) in its configure")
            }
            return denylist
        case .sharedRanges:
            guard let sharedRanges else {
                throw DefenderError(
                    .invalidConfiguration, "this app keeps no stored shared ranges: call app.defender.useStoredSharedRanges(_:) in its configure")
            }
            return sharedRanges
        }
    }

    /// Adds an address or CIDR range to a stored list and puts the list in force here at once.
    /// - Returns: the range in canonical form, and whether it was new.
    /// - Throws: `DefenderError` with `DefenderError/Code/invalidKey` for anything that is not a range.
    package func add(_ text: String, note: String, to list: RangeList) async throws -> (network: IPNetwork, added: Bool) {
        let stored = try require(list)
        let network = try Self.network(text)
        let added = try await stored.add(network, note: note.truncated(toUTF8Bytes: 255))
        try await reload(list)
        return (network, added)
    }

    /// Removes a range, in any spelling of it, from a stored list and puts the list in force here at once.
    /// - Returns: whether it was there.
    package func remove(_ text: String, from list: RangeList) async throws -> Bool {
        let removed = try await require(list).remove(try Self.network(text))
        try await reload(list)
        return removed
    }

    /// Reads a stored list and puts it in force in this process.
    package func reload(_ list: RangeList) async throws {
        _ = try require(list)
        try await reloadList(list)
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
